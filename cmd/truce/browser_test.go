package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/truce-mvm/truce/internal/demo"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/tlog"
)

// chromium finds the browser, or skips the test outside CI: in CI (.ci/run
// installs Debian's chromium) its absence is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on this machine: .ci/run installs it")
	}
	t.Skip("no chromium on this machine (apt-get install chromium); CI runs this test")
	return ""
}

// artifacts is where screenshots go: $TRUCE_ARTIFACTS, else artifacts/ at
// the repository's root (ignored by git).
func artifacts(t *testing.T) string {
	dir := os.Getenv("TRUCE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBrowser drives the demo in headless Chromium as its users would: a
// liaison files an allegation, the accused party replies, two mediators
// admit it, open a case and adopt a finding, and the consequence appears
// on the accused party's dashboard; then the page is switched to Pashto and
// laid out right to left.
func TestBrowser(t *testing.T) {
	browser := chromium(t)
	shots := artifacts(t)
	data := filepath.Join(t.TempDir(), "demo")
	s := start(t, "demo", "--data", data, "--addr", "127.0.0.1:0")
	creds, err := demo.ReadCredentials(data)
	if err != nil {
		t.Fatal(err)
	}
	password := map[string]string{}
	for _, c := range creds {
		password[c.ID] = c.Password
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 6*time.Minute)
	defer cancel()

	// The browser starts with the test's context, not a step's.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	fail := func(what string, err error) {
		t.Helper()
		url, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, url, err)
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step, cancel := context.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		if err := chromedp.Do(step, actions...); err != nil {
			png, _ := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			os.WriteFile(filepath.Join(shots, "failed.png"), png, 0o644)
			fail(what, err)
		}
	}
	// value runs an action that gives a value.
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			fail("reading "+sel, err)
		}
		return v
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			fail(js, err)
		}
		return v
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			fail("screenshot "+name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(member string) {
		t.Helper()
		run("sign in as "+member,
			chromedp.Navigate(s.url+"/signin"),
			chromedp.WaitVisible(chromedp.CSS(`#member`)),
			chromedp.SetValue(chromedp.CSS(`#member`), member),
			chromedp.SetValue(chromedp.CSS(`#password`), password[member]),
			chromedp.Submit(chromedp.CSS(`#password`)),
			chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
	}
	signOut := func() {
		t.Helper()
		run("sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.CSS(`#member`)))
	}
	// act opens an action's form, fills it ("check" ticks a box) and
	// submits it, and returns the id of the record it lands on.
	act := func(path string, fields map[string]string) string {
		t.Helper()
		actions := []chromedp.Action[chromedp.Void]{chromedp.Navigate(s.url + path), chromedp.WaitVisible(chromedp.CSS(`form.form`))}
		for name, value := range fields {
			sel := `[name="` + name + `"]`
			if n, v, ok := strings.Cut(name, "="); ok { // one of several boxes of a name
				sel = `[name="` + n + `"][value="` + v + `"]`
			}
			if value == "check" {
				actions = append(actions, chromedp.Click(chromedp.CSS(sel)))
			} else {
				actions = append(actions, chromedp.SetValue(chromedp.CSS(sel), value))
			}
		}
		actions = append(actions, chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)))
		run(path, actions...)
		wait, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := chromedp.Do(wait, chromedp.WaitNotPresent(chromedp.CSS(`form.form`))); err != nil {
			t.Fatalf("%s was not accepted: %s", path, text("main"))
		}
		url, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			fail(path, err)
		}
		return url[strings.LastIndex(url, "/")+1:]
	}

	// The sign-in page lists the exercise accounts.
	run("the sign-in page", chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(chromedp.CSS(`.accounts`)))
	accounts := text(".accounts")
	if !strings.Contains(accounts, "pk-liaison") || !strings.Contains(accounts, "EXERCISE") {
		t.Fatalf("the sign-in page does not list the exercise accounts: %s", accounts)
	}
	screenshot("01-signin")

	signIn("pk-liaison")
	// What Pakistan owes comes first.
	if first := eval(`document.querySelector('main h2').textContent`); !strings.HasPrefix(first, "Replies due from your party") {
		t.Fatalf("the PK liaison's dashboard opens with %q", first)
	}
	screenshot("02-liaison-dashboard")
	// The map picker fills in the place: the middle of the map is about
	// 69°E 31°N.
	run("the map picker", chromedp.Navigate(s.url+"/act/allege"), chromedp.WaitVisible(chromedp.CSS(`svg[data-pick]`)),
		chromedp.Click(chromedp.CSS(`svg[data-pick]`)))
	if lat, lon := eval(`document.getElementById('f-place.lat').value`), eval(`document.getElementById('f-place.lon').value`); !strings.HasPrefix(lat, "3") || !strings.HasPrefix(lon, "6") {
		t.Fatalf("the map picker set %s, %s", lat, lon)
	}
	when := time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04")
	al := act("/act/allege", map[string]string{
		"category": "shelling_artillery_missile", "occurred.from": when, "occurred.precision": "1",
		"place.lat": "30.921", "place.lon": "66.460", "place.geo_precision": "1", "place.country": "PK",
		"place.admin1": "Balochistan", "place.location": "Chaman", "clauses=no-cross-border-fire": "check",
		"perpetrator.kind": "party", "perpetrator.party": "AF", "casualties.injured": "2",
		"narrative": "[EXERCISE] Browser test: mortar rounds near the Friendship Gate.",
	})
	if !regexp.MustCompile(`^AL-\d{4}$`).MatchString(al) {
		t.Fatalf("filing landed on %q", al)
	}
	screenshot("03-allegation")
	// A second allegation, kept between Pakistan and the mechanism.
	hidden := act("/act/allege", map[string]string{
		"category": "armed_clash", "occurred.from": when, "place.lat": "32.3", "place.lon": "69.6", "place.location": "Angoor Adda",
		"clauses=no-cross-border-fire": "check", "visibility": "mechanism",
		"narrative": "[EXERCISE] Browser test: a confidential report of gunfire at the Zarghunkhel post.",
	})
	signOut()

	signIn("af-liaison")
	// The search in the page header finds an allegation by a word of its
	// narrative, and not one AF may not see.
	search := func(words string) string {
		run("search "+words, chromedp.Navigate(s.url+"/"), chromedp.WaitVisible(chromedp.CSS(`header input[name="q"]`)),
			chromedp.SetValue(chromedp.CSS(`header input[name="q"]`), words), chromedp.Submit(chromedp.CSS(`header input[name="q"]`)),
			chromedp.WaitVisible(chromedp.CSS(`main`)))
		return text("main")
	}
	if found := search("Friendship"); !strings.Contains(found, al) {
		t.Fatalf("searching a word of %s's narrative did not find it: %s", al, found)
	}
	screenshot("12-search")
	if found := search("Zarghunkhel"); strings.Contains(found, hidden) {
		t.Fatalf("AF's search found %s, kept from it", hidden)
	}
	act("/act/reply?allegation="+al, map[string]string{"response": "deny", "narrative": "Afghan forces did not fire."})
	signOut()

	signIn("tr-mediator")
	act("/act/admit?allegation="+al, nil)
	cs := act("/act/open-case?allegation="+al, map[string]string{"title": "Mortar fire at Chaman (browser test)"})
	fd := act("/act/propose-finding?case="+cs, map[string]string{"determination": "violation", "responsible": "AF",
		"clauses=no-cross-border-fire": "check", "severity": "serious", "confidence": "high", "reasoning": "Impacts and bearing establish it."})
	act("/act/sign-finding?finding="+fd, map[string]string{"concur": "check"})
	signOut()
	signIn("qa-mediator")
	screenshot("04-mediator-dashboard")
	act("/act/sign-finding?finding="+fd, map[string]string{"concur": "check"})
	signOut()

	// The consequence is on the accused party's dashboard.
	signIn("af-liaison")
	run("the finding", chromedp.Navigate(s.url+"/records/finding/"+fd))
	finding := text("main")
	if !strings.Contains(finding, "status\tIn effect") && !strings.Contains(finding, "In effect") {
		t.Fatalf("the finding is not in effect after two signatures: %s", finding)
	}
	cq := regexp.MustCompile(`CQ-\d{4}`).FindString(finding)
	// The signatures a list of who signed, linked to the case and the consequences.
	signers := eval(`Array.from(document.querySelectorAll('main ul.facts-list li')).map(li => li.textContent).join('|')`)
	if !strings.Contains(signers, "tr-mediator") || !strings.Contains(signers, "qa-mediator") {
		t.Errorf("the finding's signatures are not listed by who signed: %s", signers)
	}
	for _, href := range []string{"/records/case/" + cs, "/records/consequence/" + cq} {
		if eval(`String(!!document.querySelector('main a[href="`+href+`"]'))`) != "true" {
			t.Errorf("the finding page does not link %s", href)
		}
	}
	screenshot("11-finding")
	run("the dashboard", chromedp.Navigate(s.url+"/"))
	dash := text("main")
	if cq == "" || !strings.Contains(dash, cq) {
		t.Fatalf("the consequence %q is not on AF's dashboard: %s", cq, dash)
	}
	// The new finding against AF is on AF's dashboard.
	if against := eval(`Array.from(document.querySelectorAll('main section')).filter(s => s.querySelector('h2').textContent.startsWith('Findings in effect concerning my party')).map(s => s.textContent).join('')`); !strings.Contains(against, fd) {
		t.Fatalf("the finding %s against AF is not on AF's dashboard: %s", fd, against)
	}
	screenshot("05-consequence-on-dashboard")

	// The analyst reads where the sources on the Istanbul round disagree
	// and ties the story to the new allegation.
	signOut()
	signIn("analyst")
	run("the story", chromedp.Navigate(s.url+"/stories/ST-0002"), chromedp.WaitVisible(chromedp.CSS(`section.discrepancy`)))
	if story := text("main"); !strings.Contains(story, "At least 23 Pakistani soldiers") || !strings.Contains(story, "58 Pakistani soldiers") ||
		!strings.Contains(story, "exact copy of") {
		t.Fatalf("the story page does not lay out the disagreement: %s", story)
	}
	screenshot("05b-story-discrepancies")
	run("a source", chromedp.Navigate(s.url+"/sources/SRC-0006"), chromedp.WaitVisible(chromedp.CSS(`.article`)))
	screenshot("05c-source")
	if st := act("/act/link-source?story=ST-0002", map[string]string{"allegation": al, "relation": "corroborates", "note": "Reports of the same clash."}); st != "ST-0002" {
		t.Fatalf("linking the story landed on %q", st)
	}
	if !strings.Contains(text("main"), al) {
		t.Fatalf("the story does not show its link to %s", al)
	}

	// A new member enrols from an invitation link, makes a key in this
	// browser and files an allegation signed with it: a key the server
	// never held.
	signOut()
	byID := map[string]demo.Credential{}
	for _, c := range creds {
		byID[c.ID] = c
	}
	cli := func(args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("truce %s = %d %s %s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	admin, pk := byID["admin"], byID["pk-liaison"]
	cli("register-member", "--key", admin.KeyFile, "--token", admin.Token, "--server", s.url,
		"--id", "pk-officer", "--name", "PK Duty Officer", "--role", "liaison", "--party", "PK")
	link := strings.TrimSpace(cli("member", "invite", "--data", data, "--member", "pk-officer", "--url", s.url))
	run("enrol from the link",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`#password`)),
		chromedp.SetValue(chromedp.CSS(`#password`), "copper lantern river meadow"),
		chromedp.SetValue(chromedp.CSS(`#again`), "copper lantern river meadow"),
		chromedp.Submit(chromedp.CSS(`#again`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/signout"]`)))
	run("make a key in the browser",
		chromedp.Navigate(s.url+"/keys"),
		chromedp.WaitVisible(chromedp.CSS(`form[data-make-key] button`)),
		chromedp.SetValue(chromedp.CSS(`form[data-make-key] #password`), "copper lantern river meadow"),
		chromedp.Click(chromedp.CSS(`form[data-make-key] button`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-key] .here`)))
	keyID := eval(`document.querySelector('tr[data-key] .here:not([hidden])').closest('tr').dataset.key`)
	if !strings.HasPrefix(keyID, "SHA256:") || !strings.Contains(text("main"), "awaits approval") {
		t.Fatalf("the new key %q does not await approval: %s", keyID, text("main"))
	}
	screenshot("09-browser-key")
	// Until Pakistan approves it, the key signs nothing; then it does.
	cli("approve-key", "--key", pk.KeyFile, "--token", pk.Token, "--server", s.url, "--member", "pk-officer", "--body-key", keyID)
	run("the filing form signs in the browser",
		chromedp.Navigate(s.url+"/act/allege"),
		chromedp.WaitVisible(chromedp.CSS(`[data-signer="browser"]`)))
	mine := act("/act/allege", map[string]string{
		"category": "armed_clash", "occurred.from": when, "occurred.precision": "1",
		"place.lat": "34.1", "place.lon": "71.1", "place.geo_precision": "2", "place.country": "PK",
		"place.admin1": "Khyber Pakhtunkhwa", "place.location": "Torkham", "clauses=no-cross-border-fire": "check",
		"perpetrator.kind": "party", "perpetrator.party": "AF",
		"narrative": "[EXERCISE] Filed and signed in the browser by a newly enrolled officer.",
	})
	if !regexp.MustCompile(`^AL-\d{4}$`).MatchString(mine) {
		t.Fatalf("the browser-signed filing landed on %q", mine)
	}
	screenshot("10-browser-signed")
	// From the log: the entry is signed by the browser's key, which the
	// log added without a custodial mark, and no key the server holds.
	leaf := logEntry(t, s.url, pk.Token, "allegations", mine)
	if leaf.author != "pk-officer" || leaf.keyID != keyID {
		t.Fatalf("%s is signed by %s with %s, not by pk-officer with the browser's key %s", mine, leaf.author, leaf.keyID, keyID)
	}
	var member struct {
		Member struct {
			Keys []struct {
				ID                 string
				Custodial, Pending bool
			}
		}
	}
	getJSON(t, s.url+"/api/v1/members/pk-officer", pk.Token, &member)
	if len(member.Member.Keys) != 1 || member.Member.Keys[0].ID != keyID || member.Member.Keys[0].Custodial || member.Member.Keys[0].Pending {
		t.Fatalf("pk-officer's keys: %+v", member.Member.Keys)
	}
	signOut()
	signIn("analyst")

	// Pashto, right to left.
	run("switch to Pashto",
		chromedp.SetValue(chromedp.CSS(`#lang`), "ps"),
		chromedp.Submit(chromedp.CSS(`#lang`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="ps"] main`)))
	dir, lang := eval(`document.documentElement.dir`), eval(`document.documentElement.lang`)
	navDir := eval(`getComputedStyle(document.querySelector('header nav')).direction`)
	if dir != "rtl" || lang != "ps" || navDir != "rtl" {
		t.Fatalf("Pashto: dir %q lang %q, nav laid out %q", dir, lang, navDir)
	}
	screenshot("06-pashto-rtl")
	// The choice is kept from page to page.
	run("the map in Pashto", chromedp.Navigate(s.url+"/map"), chromedp.WaitVisible(chromedp.CSS(`figure.map svg`)))
	if eval(`document.documentElement.dir`) != "rtl" {
		t.Fatal("the language was not kept")
	}
	screenshot("07-map-pashto")
	// The map names its towns and zooms.
	if towns := eval(`Array.from(document.querySelectorAll('figure.map svg .labels text')).map(t => t.textContent).join(',')`); !strings.Contains(towns, "Peshawar") || !strings.Contains(towns, "Kandahar") {
		t.Errorf("the map names %q", towns)
	}
	before := eval(`document.querySelector('figure.map svg').getAttribute('viewBox')`)
	run("zoom in", chromedp.Click(chromedp.CSS(`nav.zoom a.button`)), chromedp.WaitVisible(chromedp.CSS(`nav.zoom a[href="/map"]`)))
	if after := eval(`document.querySelector('figure.map svg').getAttribute('viewBox')`); after == before || !strings.HasSuffix(eval(`document.querySelector('nav.zoom span').textContent`), "2") {
		t.Errorf("zooming in left the view box at %s", after)
	}
	screenshot("13-map-zoomed")
	// A narrow phone screen: nothing wider than the window.
	run("a phone", chromedp.EmulateViewport(375, 800), chromedp.Navigate(s.url+"/allegations"),
		chromedp.WaitVisible(chromedp.CSS(`main`)))
	if eval(`String(document.documentElement.scrollWidth > window.innerWidth + 1)`) == "true" {
		t.Error("the allegations list is wider than a phone's screen")
	}
	screenshot("08-phone")
}

// runCLI is run, which TestBrowser's own run (of browser actions) hides.
var runCLI = run

type loggedEntry struct{ author, keyID string }

// logEntry reads, from the log's entry bundles, the entry that created a
// record (its history's first).
func logEntry(t *testing.T, base, token, list, id string) loggedEntry {
	t.Helper()
	var rec struct {
		History []struct{ Index int64 }
	}
	getJSON(t, base+"/api/v1/"+list+"/"+id, token, &rec)
	if len(rec.History) == 0 {
		t.Fatalf("%s has no history", id)
	}
	i := rec.History[0].Index
	var cp struct{ Size int64 }
	getJSON(t, base+"/healthz", "", &cp)
	n := i / tlog.TileWidth
	w := min(tlog.TileWidth, cp.Size-n*tlog.TileWidth)
	req, _ := http.NewRequest("GET", base+"/log/"+tlog.TilePath(tlog.Tile{H: tlog.TileHeight, L: -1, N: n, W: int(w)}), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	bundle, _ := io.ReadAll(resp.Body)
	leaves, err := tlog.BundleEntries(bundle)
	if err != nil || int64(len(leaves)) <= i%tlog.TileWidth {
		t.Fatalf("entry bundle %d: %v (%d entries)", n, err, len(leaves))
	}
	_, e, err := entry.DecodeLeaf(leaves[i%tlog.TileWidth], i)
	if err != nil {
		t.Fatal(err)
	}
	return loggedEntry{author: e.Payload.Author, keyID: e.KeyID()}
}

func getJSON(t *testing.T, url, token string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(out) != nil {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
}
