package localstack

// The browser test: the whole system in-process (emulators, every function, the fake
// Google, the web pages of scripts/webui) driven through headless Chromium from Debian's
// chromium package (scripts/ensure-chromium.sh installs it; a browser is never
// downloaded). It does what a person does: connect through the consent page, select a
// calendar, see an event in the week view, book in the widget, see the slot go, see the
// booking in Google, add an event as the calendar owner and see the widget drop the
// slots, disconnect and see the data gone.
//
// UPDATE_SCREENSHOTS=1 also writes docs/screenshots/*.png.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/belbo/calsync/scripts/webui"
	"github.com/belbo/calsync/shared/booking"
	"github.com/belbo/calsync/shared/fakegoogle"
	"github.com/belbo/calsync/shared/platform"
	"github.com/belbo/calsync/shared/store"
	"github.com/belbo/calsync/shared/testenv"
	"github.com/belbo/calsync/shared/topology"
)

// chromiumPath finds Debian's Chromium; missing, the test fails in CI and skips locally.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM_BIN"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	msg := "Chromium is not installed (/usr/bin/chromium): run scripts/ensure-chromium.sh (apt-get install chromium) to run the browser test"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// uiSystem is the system the browser sees: the stack with the web pages mounted.
type uiSystem struct {
	URL   string
	FG    *fakegoogle.Server
	Stack *Stack
	Logs  *logBuffer
	Key   string
}

func startUISystem(t *testing.T, start time.Time) *uiSystem {
	t.Helper()
	testenv.Require(t, "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
	const clientID = "calsync-browser.apps.googleusercontent.com"
	fg := fakegoogle.New(fakegoogle.Options{Start: start, ClientID: clientID, ClientSecret: testClientSecret})
	gsrv := httptest.NewServer(fg.Handler())
	t.Cleanup(gsrv.Close)
	fg.SetBaseURL(gsrv.URL)

	// The return URL and the widget origin are the stack's own address, so pick it first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr

	sec := testSecrets(t)
	key := "browser-test-key-0123456789"
	env := testEnv(testenv.Project(t), gsrv.URL, clientID, fg.ClockURL())
	env.AllowedReturnURLs = []string{base + "/settings.html"}
	env.WidgetOrigins = []string{base}
	env.ManageAPIKey = key
	logs := &logBuffer{}
	web := webui.Handler(webui.Options{
		Dir:       filepath.Join("..", "..", "web"),
		ManageURL: base + "/Manage/",
		ManageKey: key,
		SlotsURL:  base + "/Slots/",
		BookURL:   base + "/Book/",
		GoogleURL: gsrv.URL,
		ClockURL:  fg.ClockURL(),
		Tenant:    webui.DemoTenant,
		Staff:     webui.DemoStaff,
		Services:  webui.DemoServices,
	})
	st, err := Start(context.Background(), Options{
		Env: env, Deps: platform.Deps{Secrets: sec, LogWriter: logs}, Addr: addr,
		Extra:    map[string]http.Handler{"/": web},
		Topology: &topology.Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, MaxDeliveryAttempts: 5},
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(st.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stack logs:\n%s", logs.String())
		}
	})
	if err := webui.SeedDemo(context.Background(), st.Platform, fg); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return &uiSystem{URL: base, FG: fg, Stack: st, Logs: logs, Key: key}
}

// newBrowser starts headless Chromium with a fresh profile; the page's time zone is
// Europe/Berlin and its language English, so what the test reads is deterministic.
func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "en-GB"),
		// Nothing leaves the machine: every host but loopback fails to resolve at once
		// (the profile picture of the fake Google points at lh3.googleusercontent.com).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancel)
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Europe/Berlin"}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en-GB"}); err != nil {
		t.Fatalf("set the locale: %v", err)
	}
	return ctx
}

// pageText is the visible text of the page, for failure messages.
func pageText(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(c, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 2000) : ""`))
	return text
}

// run runs browser actions with a deadline and fails the test with what was being done.
func run(t *testing.T, ctx context.Context, what string, within time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("%s: %v\npage text:\n%s", what, err, pageText(ctx))
	}
}

// get runs one browser action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v\npage text:\n%s", what, err, pageText(ctx))
	}
	return v
}

// waitJS polls a JavaScript expression until it is true (deadline, no fixed sleeps).
func waitJS(t *testing.T, ctx context.Context, what string, within time.Duration, expr string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last error: %v)\npage text:\n%s", within, what, err, pageText(ctx))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// js runs a JavaScript expression that returns true.
func js(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](expr)(ctx, t)
		return chromedp.Void{}, err
	}
}

// setValue sets a form control's value and fires input and change, as a person would.
func setValue(sel, value string) chromedp.Action[chromedp.Void] {
	return js(fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.value = %q;
		e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, sel, value))
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") == "" {
		return
	}
	png := get(t, ctx, "screenshot "+name, chromedp.Screenshot(css("body")))
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote docs/screenshots/%s", name)
}

func TestBrowserEndToEnd(t *testing.T) {
	exe := chromiumPath(t)
	began := time.Now()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Monday 2 November 2026, 08:00 in Berlin.
	sys := startUISystem(t, time.Date(2026, 11, 2, 7, 0, 0, 0, time.UTC))
	ctx := newBrowser(t, exe)
	step := func(name string) { t.Logf("[%5.1fs] %s", time.Since(began).Seconds(), name) }
	const short, sync = 15 * time.Second, 20 * time.Second

	// 1. Connect through the fake Google's consent page.
	step("connect")
	run(t, ctx, "open the settings page and click Connect", short,
		chromedp.Navigate(sys.URL+"/settings.html?staff=anna"),
		chromedp.WaitVisible(css("#connect")),
		chromedp.Click(css("#connect")),
		chromedp.WaitVisible(css(`button[value="allow"]`)))
	consentURL := get(t, ctx, "consent page address", chromedp.Location())
	if !strings.HasPrefix(consentURL, sys.FG.BaseURL()+"/o/oauth2/auth") {
		t.Fatalf("the Connect button led to %s, not the fake Google's consent page", consentURL)
	}
	run(t, ctx, "allow on the consent page", short,
		chromedp.Click(css(`button[value="allow"]`)),
		chromedp.WaitVisible(css("#conn-email")),
		chromedp.WaitVisible(css("#connected .avatar")))
	email := get(t, ctx, "e-mail", chromedp.Text(css("#conn-email")))
	status := get(t, ctx, "status", chromedp.Text(css("#conn-status")))
	notice := get(t, ctx, "notice", chromedp.Text(css("#notice")))
	if email != fakegoogle.DemoEmail || !strings.Contains(status, "Active") || !strings.Contains(notice, "connected") {
		t.Fatalf("after consent: email %q, status %q, notice %q", email, status, notice)
	}

	// 2. Select the primary calendar ("Work"); its events appear in the week view.
	step("select a calendar")
	primary := fakegoogle.DemoEmail
	calSel := fmt.Sprintf(`input[data-cal=%q]`, primary)
	run(t, ctx, "see the calendars", short, chromedp.WaitVisible(css(calSel)))
	waitJS(t, ctx, "the write calendar to be the primary", short,
		fmt.Sprintf(`!!document.querySelector('input[data-write=%q]:checked')`, primary))
	run(t, ctx, "tick Work", short, chromedp.Click(css(calSel)))
	waitJS(t, ctx, "Work to be selected", short, fmt.Sprintf(`document.querySelector(%q).checked && !document.querySelector(%q).disabled`, calSel, calSel))
	step("see a seeded event in the week view")
	waitJS(t, ctx, "the seeded “Customer call” in the week view", sync,
		`[...document.querySelectorAll('#week [data-event-id]')].some(e => e.textContent.includes('Customer call'))`)
	waitJS(t, ctx, "the recurring “Weekly planning” in the week view", short,
		`[...document.querySelectorAll('#week [data-event-id]')].some(e => e.textContent.includes('Weekly planning'))`)

	// 3. The widget: free slots for anna; book the first one.
	step("open the widget")
	openWidget := func() {
		run(t, ctx, "open the widget", short,
			chromedp.Navigate(sys.URL+"/widget.html"),
			chromedp.WaitVisible(css("#csw-staff")),
			setValue("#csw-staff", "anna"))
	}
	openWidget()
	waitJS(t, ctx, "anna's free slots", short, `document.querySelectorAll('.csw-slot').length > 0`)
	thu := func(h, m int) string { return time.Date(2026, 11, 5, h, m, 0, 0, berlin).Format(time.RFC3339) }
	slot := func(start string) string { return fmt.Sprintf(`.csw-slot[data-start=%q]`, start) }
	has := func(start string) string { return fmt.Sprintf(`!!document.querySelector(%q)`, slot(start)) }
	// Thursday 13:00 and 13:30 are free before the owner adds an event there.
	waitJS(t, ctx, "Thursday 13:00 and 13:30 offered", short, has(thu(13, 0))+" && "+has(thu(13, 30)))
	// Monday 09:00–09:30 is the seeded "Weekly planning" on Work: not offered.
	mon9 := time.Date(2026, 11, 2, 9, 0, 0, 0, berlin).Format(time.RFC3339)
	waitJS(t, ctx, "no slot during the seeded Weekly planning", short, "!"+has(mon9))
	// The services are the tenant's catalogue; choose "Quick check" (15 minutes, Anna only).
	waitJS(t, ctx, "the catalogue in the service list", short, fmt.Sprintf(`document.querySelectorAll('#csw-service option').length === %d && [...document.querySelectorAll('#csw-service option')].some(o => o.textContent === 'Quick check (15 min)')`, len(webui.DemoServices)))
	run(t, ctx, "choose Quick check", short, setValue("#csw-service", "2"))
	waitJS(t, ctx, "Quick check's slots", short, `document.querySelectorAll('.csw-slot').length > 0 && !document.querySelector('.csw-loading')`)
	first := get(t, ctx, "the first slot", chromedp.AttributeValue(css(".csw-slot"), "data-start")).Value
	step("book " + first)
	screenshot(t, ctx, "widget.png")
	run(t, ctx, "book the first slot without a name", short,
		chromedp.Click(css(slot(first))),
		chromedp.WaitVisible(css("#csw-name")),
		chromedp.Click(css("#csw-book")))
	waitJS(t, ctx, "client validation of the empty name", short, `document.querySelector('#csw-name-err').textContent.includes('enter your name')`)
	run(t, ctx, "fill in and book", short,
		chromedp.SendKeys(css("#csw-name"), "Erika Mustermann"),
		chromedp.SendKeys(css("#csw-email"), "erika@example.org"),
		chromedp.Click(css("#csw-book")),
		chromedp.WaitVisible(css("#csw-confirmed")),
		chromedp.WaitVisible(css("#csw-cancel")))
	confirmed := get(t, ctx, "confirmation", chromedp.Text(css("#csw-confirmed")))
	if !strings.Contains(confirmed, "booked") || !strings.Contains(confirmed, "Anna") {
		t.Fatalf("confirmation = %q", confirmed)
	}
	screenshot(t, ctx, "widget-booked.png")
	// Duration and title came from the catalogue, not from the page.
	firstAt, err := time.Parse(time.RFC3339, first)
	if err != nil {
		t.Fatal(err)
	}
	var booked *store.Booking
	if list, err := (&booking.Service{Store: sys.Stack.Platform.Store}).List(context.Background(), webui.DemoTenant, "anna", firstAt, firstAt.Add(time.Minute)); err == nil && len(list) == 1 {
		booked = list[0]
	}
	if booked == nil || booked.ServiceID != "quick-check" || booked.Service != "Quick check" || booked.End.Sub(booked.Start) != 15*time.Minute {
		t.Fatalf("the widget's booking %+v: want the catalogue's quick-check, 15 minutes", booked)
	}

	// 4. The slot is gone from the widget.
	step("see the slot disappear")
	openWidget()
	waitJS(t, ctx, "slots again", short, `document.querySelectorAll('.csw-slot').length > 0`)
	waitJS(t, ctx, "the booked slot gone", short, "!"+has(first))

	// 5. The booking is in the staff member's Google calendar.
	step("see the booking in Google")
	firstT, err := time.Parse(time.RFC3339, first)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, sync, "the booking in the fake Google calendar", func() bool {
		for _, e := range sys.FG.Events(primary, true, firstT.Add(-time.Minute), firstT.Add(time.Hour)) {
			if e.Start != nil && e.Start.DateTime != "" && e.Status != "cancelled" {
				if s, err := time.Parse(time.RFC3339, e.Start.DateTime); err == nil && s.Equal(firstT) {
					return true
				}
			}
		}
		return false
	})

	// 6. The owner adds an event on Thursday 13:00–14:00 through the owner page; the
	// widget drops the matching slots (push → Pub/Sub → sync).
	step("add an event as the calendar owner")
	run(t, ctx, "open the owner page", short,
		chromedp.Navigate(sys.URL+"/owner.html"),
		chromedp.WaitVisible(css("#add-title")))
	waitJS(t, ctx, "the owner's calendars", short, fmt.Sprintf(`[...document.querySelectorAll('#calendar option')].some(o => o.value === %q)`, primary))
	run(t, ctx, "add the event", short,
		setValue("#calendar", primary),
		setValue("#add-start", "2026-11-05T13:00"),
		setValue("#add-end", "2026-11-05T14:00"),
		chromedp.SendKeys(css("#add-title"), "Doctor"),
		chromedp.Click(css("#add-submit")))
	waitJS(t, ctx, "the owner page to confirm", short, `document.querySelector('#notice').textContent.includes('Added')`)
	waitJS(t, ctx, "the new event in the owner's list", short, `[...document.querySelectorAll('#events tr')].some(r => r.textContent.includes('Doctor'))`)
	screenshot(t, ctx, "owner.png")
	step("see the widget drop the slots")
	openWidget()
	waitJS(t, ctx, "Thursday 13:00 and 13:30 gone, 12:30 and 14:00 still offered", sync,
		"!"+has(thu(13, 0))+" && !"+has(thu(13, 30))+" && "+has(thu(12, 30))+" && "+has(thu(14, 0)))

	// 7. The week view shows the booking marked and the owner's event.
	step("see the booking and the new event in the week view")
	run(t, ctx, "open the settings page", short,
		chromedp.Navigate(sys.URL+"/settings.html?staff=anna"),
		chromedp.WaitVisible(css("#conn-email")))
	waitJS(t, ctx, "the booking marked in the week view", sync, `!!document.querySelector('#week [data-booking-id]')`)
	waitJS(t, ctx, "the owner's “Doctor” in the week view", sync,
		`[...document.querySelectorAll('#week [data-event-id]')].some(e => e.textContent.includes('Doctor'))`)
	// A second calendar in another colour: its events join the week.
	run(t, ctx, "tick Personal", short,
		js(`(() => { [...document.querySelectorAll('ul.calendars label.pick')].find(l => l.textContent.includes('Personal')).click(); return true })()`))
	waitJS(t, ctx, "Personal's recurring “Gym” in the week view", sync,
		`[...document.querySelectorAll('#week [data-event-id]')].some(e => e.textContent.includes('Gym'))`)
	screenshot(t, ctx, "settings.png")

	// 8. Book Thursday 15:00 and cancel it with the confirmation's cancel link: the time
	// is offered again.
	step("book and cancel with the cancel link")
	openWidget()
	waitJS(t, ctx, "Thursday 15:00 offered", short, has(thu(15, 0)))
	run(t, ctx, "book Thursday 15:00", short,
		chromedp.Click(css(slot(thu(15, 0)))),
		chromedp.WaitVisible(css("#csw-name")),
		chromedp.SendKeys(css("#csw-name"), "Max Mustermann"),
		chromedp.SendKeys(css("#csw-email"), "max@example.org"),
		chromedp.Click(css("#csw-book")),
		chromedp.WaitVisible(css("#csw-cancel")),
		chromedp.Click(css("#csw-cancel")),
		chromedp.WaitVisible(css("#csw-cancelled")))
	openWidget()
	waitJS(t, ctx, "Thursday 15:00 offered again after cancelling", sync, has(thu(15, 0)))

	// 8b. A customer over a booking limit gets a friendly message, not an error code.
	step("see the friendly message for a booking limit")
	if _, err := sys.Stack.Platform.Store.PatchTenantSettings(context.Background(), webui.DemoTenant, []byte(`{"limits":{"perEmail":{"hour":1,"day":1}}}`), sys.FG.Now()); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "book Thursday 15:00 again with the same e-mail", short,
		chromedp.Click(css(slot(thu(15, 0)))),
		chromedp.WaitVisible(css("#csw-name")),
		chromedp.SendKeys(css("#csw-name"), "Max Mustermann"),
		chromedp.SendKeys(css("#csw-email"), "max@example.org"),
		chromedp.Click(css("#csw-book")))
	waitJS(t, ctx, "the friendly limit message", short,
		`[...document.querySelectorAll('.csw-err')].some(e => e.textContent.includes('Too many bookings') && e.textContent.includes('try again in'))`)
	screenshot(t, ctx, "widget-limited.png")
	run(t, ctx, "back to the settings page", short,
		chromedp.Navigate(sys.URL+"/settings.html?staff=anna"),
		chromedp.WaitVisible(css("#disconnect")))

	// 9. Disconnect: confirmation, then nothing left.
	step("disconnect")
	// Disconnect stops channels and revokes at Google, then deletes what was synced: on
	// a loaded machine that alone has taken most of the short window.
	run(t, ctx, "disconnect", sync,
		chromedp.Click(css("#disconnect")),
		chromedp.WaitVisible(css("#confirm-disconnect")),
		chromedp.Click(css("#confirm-disconnect")),
		chromedp.WaitVisible(css("#connect")))
	waitJS(t, ctx, "the week view hidden", short, `document.querySelector('#week-card').hidden && !document.querySelector('#week [data-event-id]')`)
	var left []string
	for path := range dumpFirestore(t, sys.Stack.Platform.Store.FS) {
		if strings.Contains(path, "/connections/") || strings.HasPrefix(path, "channels/") {
			left = append(left, path)
		}
	}
	if len(left) > 0 {
		t.Errorf("left in Firestore after disconnect: %v", left)
	}
	for _, g := range sys.FG.Grants() {
		if !g.Revoked {
			t.Errorf("grant %s not revoked at Google", g.ID)
		}
	}
	step("done")
}
