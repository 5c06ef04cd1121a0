package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/notify"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/store"
)

func cmdMember(e *env, args []string) error {
	if len(args) == 0 || !slices.Contains([]string{"invite", "list", "suspend", "email"}, args[0]) {
		fmt.Fprintln(e.stderr, "usage: truce member invite --data DIR --member ID [--expires 72h] [--url BASE] | truce member list --data DIR | truce member suspend --data DIR --member ID | truce member email --data DIR --member ID --email ADDR")
		return errUsage
	}
	switch args[0] {
	case "list":
		return cmdMemberList(e, args[1:])
	case "suspend":
		return cmdMemberSuspend(e, args[1:])
	case "email":
		return cmdMemberEmail(e, args[1:])
	}
	fs := e.flags("member invite")
	data := fs.String("data", "", "data directory")
	member := fs.String("member", "", "member id")
	expires := fs.String("expires", "72h", "how long the link works")
	base := fs.String("url", "http://127.0.0.1:8080", "the address members reach the server at")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := required(fs, "data", "member"); err != nil {
		return err
	}
	ttl, err := truce.ParseDuration(*expires)
	if err != nil || ttl <= 0 || time.Duration(ttl) > 30*24*time.Hour {
		return fmt.Errorf("--expires: a duration such as 72h or 7d, at most 30d")
	}
	// The store alone: links may be given while the server runs.
	in, err := instance.OpenStore(e.ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	rec, err := in.Store.Record(e.ctx, rules.TypeMember, *member)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no member %q: register the member first", *member)
	}
	if err != nil {
		return err
	}
	var m truce.Member
	if err := json.Unmarshal(rec.Doc, &m); err != nil {
		return err
	}
	if m.Role == truce.RoleSystem {
		return fmt.Errorf("the system author does not sign in")
	}
	tok, err := auth.NewInvite(e.ctx, in.Store, m.ID, time.Now(), time.Duration(ttl))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s/enrol/%s\n", strings.TrimRight(*base, "/"), tok)
	fmt.Fprintf(e.stderr, "a one-time link for %s (%s, %s) to set a password, valid for %s: give it to the member by a channel you trust\n",
		m.ID, m.Role, m.Party, time.Duration(ttl))
	return nil
}

func cmdMemberList(e *env, args []string) error {
	in, _, err := openData(e, "member list", args)
	if err != nil {
		return err
	}
	defer in.Close()
	w := tabwriter.NewWriter(e.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tROLE\tPARTY\tKEYS\tPASSWORD")
	// Members by type alone, not every record of the instance.
	recs, err := in.Store.Records(e.ctx, truce.Query{Type: rules.TypeMember, Access: truce.Everything, Limit: 1 << 20})
	if err != nil {
		return err
	}
	slices.SortFunc(recs, func(a, b truce.Record) int { return strings.Compare(a.ID, b.ID) })
	for _, r := range recs {
		var m truce.Member
		if err := json.Unmarshal(r.Doc, &m); err != nil {
			return err
		}
		active := 0
		for _, k := range m.Keys {
			if k.Usable() {
				active++
			}
		}
		pw := "set"
		if hash, err := in.Store.Password(e.ctx, m.ID); errors.Is(err, store.ErrNotFound) {
			pw = "none"
		} else if err != nil {
			return err
		} else if auth.Suspended(hash) {
			pw = "suspended"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", m.ID, m.Name, m.Role, m.Party, active, pw)
	}
	return w.Flush()
}

// cmdMemberSuspend stops a member from using the server: password,
// sessions and tokens. A new enrolment link reinstates it.
func cmdMemberSuspend(e *env, args []string) error {
	fs := e.flags("member suspend")
	fs.String("data", "", "data directory")
	member := fs.String("member", "", "member id")
	in, err := openStore(e, fs, args, "member")
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := in.Store.Record(e.ctx, rules.TypeMember, *member); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no member %q", *member)
	} else if err != nil {
		return err
	}
	n, err := auth.Suspend(e.ctx, in.Store, *member)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "suspended %s: no password, no session, %d tokens revoked (a running server forgets them within %s)\n", *member, n, auth.TokenCacheTTL)
	fmt.Fprintf(e.stderr, "its keys still sign: revoke them in the log (truce revoke-key) if they may be in other hands; a new link (truce member invite) reinstates it\n")
	return nil
}

// cmdMemberEmail sets where a member's e-mail notifications go: kept in
// the store beside passwords, never in the log.
func cmdMemberEmail(e *env, args []string) error {
	fs := e.flags("member email")
	data := fs.String("data", "", "data directory")
	member := fs.String("member", "", "member id")
	email := fs.String("email", "", "the address (empty: no e-mail)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "member"); err != nil {
		return err
	}
	// The store alone: addresses may be set while the server runs.
	in, err := instance.OpenStore(e.ctx, *data)
	if err != nil {
		return err
	}
	defer in.Close()
	if _, err := in.Store.Record(e.ctx, rules.TypeMember, *member); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no member %q", *member)
	} else if err != nil {
		return err
	}
	if err := notify.SetEmail(e.ctx, in.Store, *member, *email, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "e-mail of %s set to %q; the member chooses the events (PUT /api/v1/notifications)\n", *member, *email)
	return nil
}
