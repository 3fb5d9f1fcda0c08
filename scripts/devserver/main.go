// Command devserver is the local system of `make run`: every function in one process,
// served by functions-framework exactly as Cloud Functions serves them (HTTP functions
// at /<Name>/…, Pub/Sub functions receiving push requests from the emulator's push
// subscriptions at /<Name>/projects/<p>/topics/<topic>), plus the fake Google on its own
// port and the web pages. scripts/dev.sh starts the emulators and then this.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/belbo/calsync/scripts/localstack"
	"github.com/belbo/calsync/shared/config"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/topology"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address of the functions")
	googleAddr := flag.String("google-addr", "127.0.0.1:9099", "address of the fake Google")
	webDir := flag.String("web", "web", "directory of the settings page and booking widget")
	seed := flag.Bool("seed", true, "seed the demo tenant, staff and Google account")
	flag.Parse()
	if err := run(*addr, *googleAddr, *webDir, *seed); err != nil {
		log.Fatalf("devserver: %v", err)
	}
}

func run(addr, googleAddr, webDir string, seed bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	functionsURL := "http://" + addr
	googleURL := "http://" + googleAddr
	// What is unset points at this process: the fake Google (also the clock), the functions
	// and the web pages. Everything is then loaded and checked as a function's would be.
	local := map[string]string{
		"GOOGLE_AUTH_URL":          googleURL + "/o/oauth2/auth",
		"GOOGLE_TOKEN_URL":         googleURL + "/token",
		"GOOGLE_REVOKE_URL":        googleURL + "/revoke",
		"GOOGLE_USERINFO_URL":      googleURL + "/oauth2/v3/userinfo",
		"GOOGLE_CALENDAR_ENDPOINT": googleURL + "/calendar/v3/",
		"CLOCK_URL":                googleURL + "/_fake/clock",
		"OAUTH_REDIRECT_URL":       functionsURL + "/OAuthCallback/",
		"WEBHOOK_URL":              functionsURL + "/CalendarWebhook/",
		"ALLOWED_RETURN_URLS":      functionsURL + "/",
		"WIDGET_ORIGINS":           functionsURL,
	}
	var env config.Env
	if err := config.Load(&env, func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok && strings.TrimSpace(v) != "" {
			return v, true
		}
		v, ok := local[k]
		return v, ok
	}); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	fg := fakegoogle.New(fakegoogle.Options{Start: time.Now().UTC().Truncate(time.Second), ClientID: env.OAuthClientID, ClientSecret: os.Getenv("SECRET_OAUTH_CLIENT_SECRET")})
	go tick(ctx, fg)
	gln, err := net.Listen("tcp", googleAddr)
	if err != nil {
		return fmt.Errorf("listen fake Google: %w", err)
	}
	go (&http.Server{Handler: fg.Handler(), ReadHeaderTimeout: 10 * time.Second}).Serve(gln)

	p, err := platform.New(ctx, env.Platform, platform.Deps{})
	if err != nil {
		return err
	}
	defer p.Close()
	if err := topology.Ensure(ctx, p.PubSub, topology.Options{PushBase: functionsURL, MinBackoff: time.Second, MaxBackoff: 10 * time.Second}); err != nil {
		return err
	}
	hs, ms, err := localstack.Handlers(p, env)
	if err != nil {
		return err
	}
	for name, h := range hs {
		if err := funcframework.RegisterHTTPFunctionContext(ctx, "/"+name+"/", http.StripPrefix("/"+name, h).ServeHTTP); err != nil {
			return err
		}
	}
	for _, f := range localstack.EventFunctions {
		// Each consumer dispatches (and dead-letters) on its own scoped platform.
		if err := funcframework.RegisterCloudEventFunctionContext(ctx, "/"+f.Name+"/", ms[f.Name].CloudEvent()); err != nil {
			return err
		}
	}
	web := webHandler(webDir, env, functionsURL, googleURL)
	if err := funcframework.RegisterHTTPFunctionContext(ctx, "/", web.ServeHTTP); err != nil {
		return err
	}
	if seed {
		if err := seedDemo(ctx, p, fg); err != nil {
			return fmt.Errorf("seed demo: %w", err)
		}
	}
	host, port, _ := net.SplitHostPort(addr)
	errc := make(chan error, 1)
	go func() { errc <- funcframework.StartHostPort(host, port) }()
	fmt.Printf(`
calsync is running.
  Settings page   %[1]s/settings.html   (connect Google, choose calendars, week view)
  Booking widget  %[1]s/widget.html
  Calendar owner  %[1]s/owner.html      (act as the Google calendar owner: add, move, delete events)
  Functions       %[1]s/<Name>/           (Manage needs: Authorization: Bearer $MANAGE_API_KEY)
  Fake Google     %[2]s                   (consent page: %[2]s/o/oauth2/auth)
Press Ctrl-C to stop.
`, functionsURL, googleURL)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// tick lets the fake Google's clock (the whole local system's clock, CLOCK_URL) run with
// real time, keeping any offset added through its control API.
func tick(ctx context.Context, fg *fakegoogle.Server) {
	last := time.Now()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fg.Advance(now.Sub(last))
			last = now
		}
	}
}
