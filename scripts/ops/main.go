// Command ops is the operations tool of calsync (docs/runbook.md). It uses the same
// environment as the functions: GOOGLE_CLOUD_PROJECT (or -project), and locally
// FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and SECRET_* (deployed: Application
// Default Credentials and Secret Manager, SECRETS_PROJECT if the secrets live elsewhere).
//
//	go run ./scripts/ops [-project P] inspect -tenant T -staff S [-connection C] [-show-email]
//	go run ./scripts/ops [-project P] resync (-all | -tenant T [-staff S [-connection C [-calendar ID]]]) [-full]
//	go run ./scripts/ops [-project P] dlq list|replay -topic calendar-sync|calendar-export|renew-channels [-max N] [-wait 5s]
//	go run ./scripts/ops [-project P] reencrypt [-dry-run]
//	go run ./scripts/ops [-project P] keys
//	go run ./scripts/ops [-project P] rotate-state-key
//
// Output is JSON on stdout (ids, statuses, counts, timestamps; e-mail addresses only with
// -show-email); the exit status is 0 on success, 1 on failure, 2 on bad usage.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"time"

	"github.com/belbo/calsync/scripts/ops/opslib"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

const usage = `usage: ops [-project P] <command> [flags]

commands:
  inspect -tenant T -staff S [-connection C] [-show-email]
  resync (-all | -tenant T [-staff S [-connection C [-calendar ID]]]) [-full]
  dlq list|replay -topic calendar-sync|calendar-export|renew-channels [-max N] [-wait 5s]
  reencrypt [-dry-run]
  keys
  rotate-state-key
`

// errUsage marks bad command lines (exit status 2).
var errUsage = errors.New("usage")

// run executes one command line. tool, when non-nil, is used instead of building a
// platform from the environment (tests).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, tool *opslib.Tool) int {
	err := dispatch(ctx, args, stdout, stderr, tool)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "ops: %v\n\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "ops: %v\n", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, tool *opslib.Tool) error {
	global := flag.NewFlagSet("ops", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	project := global.String("project", "", "Google Cloud project (default: GOOGLE_CLOUD_PROJECT)")
	if err := global.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	args = global.Args()
	if len(args) == 0 {
		return fmt.Errorf("%w: no command", errUsage)
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var exec func(ctx context.Context, t *opslib.Tool) (any, error)
	var validate func() error // checks the flags before anything is contacted
	switch cmd {
	case "inspect":
		var o opslib.InspectOptions
		fs.StringVar(&o.Tenant, "tenant", "", "tenant id")
		fs.StringVar(&o.Staff, "staff", "", "staff id")
		fs.StringVar(&o.Connection, "connection", "", "connection id (default: all of the staff member's)")
		fs.BoolVar(&o.ShowEmail, "show-email", false, "include e-mail addresses and Google calendar ids")
		validate = func() error { return o.Validate() }
		exec = func(ctx context.Context, t *opslib.Tool) (any, error) { return t.Inspect(ctx, o) }
	case "resync":
		var s opslib.Scope
		fs.BoolVar(&s.All, "all", false, "every connection of every tenant")
		fs.StringVar(&s.Tenant, "tenant", "", "tenant id")
		fs.StringVar(&s.Staff, "staff", "", "staff id")
		fs.StringVar(&s.Connection, "connection", "", "connection id")
		fs.StringVar(&s.Calendar, "calendar", "", "Google calendar id or calendar document id (needs -connection)")
		full := fs.Bool("full", false, "full resync (list everything again, delete what Google no longer has)")
		validate = func() error { return s.Validate() }
		exec = func(ctx context.Context, t *opslib.Tool) (any, error) { return t.Resync(ctx, s, *full) }
	case "dlq":
		if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
			return fmt.Errorf("%w: dlq needs list or replay", errUsage)
		}
		sub := args[0]
		args = args[1:]
		var o opslib.DLQOptions
		fs.StringVar(&o.Topic, "topic", "", "calendar-sync | calendar-export | renew-channels")
		fs.IntVar(&o.Max, "max", 100, "at most this many messages")
		fs.DurationVar(&o.Wait, "wait", 5*time.Second, "how long one pull waits for messages")
		validate = func() error { return o.Validate() }
		exec = func(ctx context.Context, t *opslib.Tool) (any, error) {
			if sub == "list" {
				ms, err := t.DLQList(ctx, o)
				return map[string]any{"topic": o.Topic, "messages": ms}, err
			}
			return t.DLQReplay(ctx, o)
		}
	case "reencrypt":
		dry := fs.Bool("dry-run", false, "only count what would be re-encrypted")
		exec = func(ctx context.Context, t *opslib.Tool) (any, error) { return t.Reencrypt(ctx, *dry) }
	case "keys":
		exec = func(ctx context.Context, t *opslib.Tool) (any, error) { return t.Keys(ctx) }
	case "rotate-state-key":
		exec = func(ctx context.Context, t *opslib.Tool) (any, error) {
			kv, err := t.Keys(ctx)
			if err != nil {
				return nil, err
			}
			opslib.RotateStateKeyGuide(stdout, kv, t.P.Config.LocalSecrets)
			return nil, nil
		}
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %s: %v", errUsage, cmd, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected arguments %q", errUsage, cmd, fs.Args())
	}
	if validate != nil {
		if err := validate(); err != nil {
			return fmt.Errorf("%w: %s: %v", errUsage, cmd, err)
		}
	}
	if tool == nil {
		// -project stands for GOOGLE_CLOUD_PROJECT (and so for SECRETS_PROJECT when unset).
		lookup := func(k string) (string, bool) {
			if k == "GOOGLE_CLOUD_PROJECT" && *project != "" {
				return *project, true
			}
			return os.LookupEnv(k)
		}
		if v, _ := lookup("GOOGLE_CLOUD_PROJECT"); strings.TrimSpace(v) == "" {
			return fmt.Errorf("%w: set GOOGLE_CLOUD_PROJECT or -project", errUsage)
		}
		var cfg opslib.Config
		if err := config.Load(&cfg, lookup); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		p, err := platform.New(ctx, cfg.Platform, platform.Deps{LogWriter: stderr})
		if err != nil {
			return err
		}
		defer p.Close()
		tool = opslib.New(p, cfg.SyncSchedule)
	}
	out, err := exec(ctx, tool)
	if v := reflect.ValueOf(out); out != nil && !(v.Kind() == reflect.Pointer && v.IsNil()) {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if eerr := enc.Encode(out); eerr != nil && err == nil {
			err = eerr
		}
	}
	return err
}
