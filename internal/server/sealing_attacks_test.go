package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/entry"
	"github.com/truce-mvm/truce/internal/gate"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/sequencer"
	"github.com/truce-mvm/truce/internal/testkit"
)

// Whoever holds a member's session (a stolen cookie, an unattended
// browser) cannot add a key of its own on /keys: the member's password is
// asked again, and a key added without it does not exist.
func TestKeysNeedThePassword(t *testing.T) {
	tg := newTarget(t, gate.Limits{}, instance.Options{})
	const victim = "monitor-01"
	cookie, csrf := tg.session(t, victim)
	hash, _ := auth.HashPassword("correct horse")
	tg.In.Store.PutPassword(context.Background(), victim, hash)
	thief, _ := entry.GenerateKey(victim)
	add := func(password string) *http.Response {
		form := url.Values{"csrf": {csrf}, "key": {thief.PublicKey()}, "proof": {thief.ProvePossession(testkit.Origin, victim)}, "password": {password}}
		req, _ := http.NewRequest("POST", tg.url+"/keys", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(cookie)
		resp, _ := tg.do(t, req)
		return resp
	}
	if resp := add(""); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("POST /keys without the password = %d", resp.StatusCode)
	}
	if resp := add("not the password"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("POST /keys with a wrong password = %d", resp.StatusCode)
	}
	snap := tg.In.Seq.Snapshot()
	env, err := sequencer.Sign(rules.KindAllegationFiled, testkit.Origin, victim, snap.Seq(victim)+1, testkit.Start, testkit.Allegation("AF", 3), thief)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.In.Seq.Submit(context.Background(), env, nil, nil); err == nil {
		t.Fatalf("a key offered from %s's session without the password signs as %s", victim, victim)
	}
	if resp := add("correct horse"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /keys with the password = %d", resp.StatusCode)
	}
	if m, _ := tg.In.Seq.Snapshot().Member(victim); !slices.ContainsFunc(m.Keys, func(k truce.Key) bool { return k.ID == thief.ID() }) {
		t.Fatal("the key offered with the password was not added")
	}
}
