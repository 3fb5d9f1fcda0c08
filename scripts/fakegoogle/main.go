// Command fakegoogle serves the in-repo fake of Google's OAuth, userinfo and Calendar
// APIs (package shared/fakegoogle) for local development. Never deployed.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/belbo/calsync/shared/fakegoogle"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9099", "listen address")
	seed := flag.Bool("seed-demo", true, "create demo@example.com with demo calendars")
	start := flag.String("start", "", "initial fake time (RFC 3339; default: now)")
	clientID := flag.String("client-id", "", "OAuth client id (default "+fakegoogle.DefaultClientID+")")
	clientSecret := flag.String("client-secret", "", "OAuth client secret (default "+fakegoogle.DefaultClientSecret+")")
	testingApp := flag.Bool("testing-app", false, "act like an OAuth app in Google's Testing publishing status: refresh tokens expire after 7 days")
	flag.Parse()
	t0 := time.Now().UTC().Truncate(time.Second)
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			log.Fatalf("-start: %v", err)
		}
		t0 = t
	}
	opts := fakegoogle.Options{Start: t0, ClientID: *clientID, ClientSecret: *clientSecret}
	if *testingApp {
		opts.RefreshTokenTTL = fakegoogle.TestingModeRefreshTokenTTL
	}
	fg := fakegoogle.New(opts)
	if *seed {
		if err := fg.SeedDemo(); err != nil {
			log.Fatalf("seed: %v", err)
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fg.SetBaseURL("http://" + ln.Addr().String())
	log.Printf("fake Google on http://%s (calendar endpoint %s, clock %s)", ln.Addr(), fg.CalendarEndpoint(), fg.ClockURL())
	srv := &http.Server{Handler: fg.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
