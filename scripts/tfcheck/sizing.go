package main

import (
	"fmt"
	"strconv"
	"strings"
)

// checkFunctionSizing refuses what Cloud Run (which runs gen2 functions) refuses at
// deploy time, so a plan that would fail there fails here: below 1 vCPU the maximum
// concurrency must be 1, more than 512 MiB needs at least 0.5 vCPU and more than 1 GiB a
// whole vCPU; above 1 vCPU only whole numbers; 0.08 vCPU at the least.
// Source: docs.cloud.google.com/run/docs/configuring/services/cpu ("If you use less than
// 1 vCPU, the following requirements are enforced").
func checkFunctionSizing(e Env) []Violation {
	var out []Violation
	for _, f := range e.Plan.OfType(functionType) {
		cpuS := str(f.After, "service_config", 0, "available_cpu")
		memS := str(f.After, "service_config", 0, "available_memory")
		conc, _ := get(f.After, "service_config", 0, "max_instance_request_concurrency").(float64)
		bad := func(format string, a ...any) {
			out = append(out, Violation{"function-sizing", f.Address, fmt.Sprintf(format, a...)})
		}
		cpu, err := strconv.ParseFloat(cpuS, 64)
		if err != nil {
			bad("available_cpu %q is not a number of vCPUs", cpuS)
			continue
		}
		mem, ok := mebibytes(memS)
		if !ok {
			bad("available_memory %q is not a size such as 512Mi or 1Gi", memS)
			continue
		}
		switch {
		case cpu < 0.08:
			bad("available_cpu %v is below Cloud Run's minimum of 0.08", cpu)
		case cpu > 1 && cpu != float64(int(cpu)):
			bad("available_cpu %v: above 1 vCPU only whole numbers are allowed", cpu)
		}
		if cpu < 1 {
			if conc != 1 {
				bad("available_cpu %v with max_instance_request_concurrency %v: below 1 vCPU concurrency must be 1", cpu, conc)
			}
			if mem > 1024 {
				bad("available_memory %s needs at least 1 vCPU, has %v", memS, cpu)
			} else if mem > 512 && cpu < 0.5 {
				bad("available_memory %s needs at least 0.5 vCPU, has %v", memS, cpu)
			}
		}
	}
	return out
}

// mebibytes reads a Kubernetes-style size (256Mi, 1Gi, 512M).
func mebibytes(s string) (float64, bool) {
	for suffix, f := range map[string]float64{"Gi": 1024, "Mi": 1, "G": 1e9 / (1 << 20), "M": 1e6 / (1 << 20)} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			return v * f, err == nil && v > 0
		}
	}
	return 0, false
}
