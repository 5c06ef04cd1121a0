package sequencer_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/audit"
	"github.com/truce-mvm/truce/internal/instance"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/testkit"
)

// TestRandomSequencesReplay drives the sequencer with random commands —
// most of them plausible, many of them refused — while log time jumps
// ahead, and checks that replaying the log gives the live state: every
// record, every history row, the overdue set.
func TestRandomSequencesReplay(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			env := testkit.New(t, instance.Options{})
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(seed, 99))
			pick := func(xs []string) string {
				if len(xs) == 0 || rng.IntN(10) == 0 {
					return fmt.Sprintf("XX-%04d", rng.IntN(50)) // sometimes refer to nothing
				}
				return xs[rng.IntN(len(xs))]
			}
			// inState mostly picks a record in the status the command needs,
			// so the walk gets deep into the workflow; otherwise any.
			inState := func(typ, status string, any []string) string {
				if rng.IntN(4) > 0 {
					recs, _ := env.In.Store.Records(ctx, truce.Query{Type: typ, Status: status, Limit: 20, Access: truce.Everything})
					if len(recs) > 0 {
						return recs[rng.IntN(len(recs))].ID
					}
				}
				return pick(any)
			}
			ids := func(prefix string, n int) []string {
				var out []string
				for i := 1; i <= n; i++ {
					out = append(out, fmt.Sprintf("%s-%04d", prefix, i))
				}
				return out
			}
			members := []string{"pk-liaison", "af-liaison", "tr-mediator", "qa-mediator", "analyst", testkit.MonitorID(1), testkit.MonitorID(2)}
			var accepted, refused int
			counts := map[string]int{}
			for step := 0; step < 400; step++ {
				env.Clock.Advance(time.Duration(rng.IntN(20)) * time.Hour)
				als, css, tks, fds, cqs := ids("AL", counts["AL"]), ids("CS", counts["CS"]), ids("TK", counts["TK"]), ids("FD", counts["FD"]), ids("CQ", 30)
				var kind string
				var body any
				// Mostly the member whose role it is; sometimes anyone.
				plausible := []string{"tr-mediator", "qa-mediator"}
				switch rng.IntN(13) {
				case 0, 1, 2:
					kind = rules.KindAllegationFiled
					against := []string{"AF", "PK"}[rng.IntN(2)]
					body = testkit.Allegation(against, step)
					plausible = []string{map[string]string{"AF": "pk-liaison", "PK": "af-liaison"}[against], testkit.MonitorID(1)}
				case 3:
					plausible = []string{"pk-liaison", "af-liaison"}
					kind, body = rules.KindReplyFiled, truce.Reply{Allegation: inState(rules.TypeAllegation, truce.AllegationAdmitted, als), Response: []string{"admit", "deny", "contest", "decline"}[rng.IntN(4)], Narrative: "Answer."}
				case 4:
					kind, body = rules.KindAllegationAdmitted, truce.Admission{Allegation: inState(rules.TypeAllegation, truce.AllegationFiled, als)}
				case 5:
					kind, body = rules.KindAllegationRejected, truce.Rejection{Allegation: pick(als), Grounds: truce.RejectUnfounded, Note: "No."}
				case 6:
					kind, body = rules.KindCaseOpened, truce.CaseOpening{Allegation: inState(rules.TypeAllegation, truce.AllegationAdmitted, als), Title: "Case"}
				case 7:
					kind, body = rules.KindTaskAssigned, truce.TaskAssignment{Case: inState(rules.TypeCase, truce.CaseOpen, css), Type: truce.TaskSiteVisit,
						Assignee: []string{testkit.MonitorID(1), "analyst", "pk-liaison"}[rng.IntN(3)], Due: env.Clock.Now().Add(time.Duration(rng.IntN(96)+1) * time.Hour), Description: "Go."}
				case 8:
					plausible = []string{testkit.MonitorID(1), "analyst"}
					kind, body = rules.KindTaskCompleted, truce.TaskResult{Task: inState(rules.TypeTask, truce.TaskAssigned, tks), Result: "Done."}
				case 9:
					kind = rules.KindFindingProposed
					p := truce.FindingProposal{Case: inState(rules.TypeCase, truce.CaseOpen, css), Determination: truce.DeterminationViolation, Responsible: []string{"AF", "PK"}[rng.IntN(2)],
						Clauses: []string{"no-cross-border-fire"}, Severity: []string{"minor", "serious", "grave"}[rng.IntN(3)], Confidence: "high", Reasoning: "Shown."}
					if rng.IntN(3) == 0 {
						p = truce.FindingProposal{Case: pick(css), Determination: truce.DeterminationNotConfirmed, Confidence: "low", Reasoning: "Not shown."}
					}
					body = p
				case 10:
					kind, body = rules.KindFindingSigned, truce.FindingSignature{Finding: inState(rules.TypeFinding, truce.FindingProposed, fds), Concur: rng.IntN(5) > 0, Note: "Signed."}
				case 11:
					kind = []string{rules.KindConsequenceFulfilled, rules.KindConsequenceWaived}[rng.IntN(2)]
					body = truce.ConsequenceDecision{Consequence: inState(rules.TypeConsequence, truce.ConsequenceOpen, cqs), Note: "Decided."}
				case 12:
					plausible = []string{testkit.MonitorID(2), "analyst"}
					sum := sha256.Sum256(fmt.Appendf(nil, "%d-%d", seed, rng.IntN(40)))
					kind, body = rules.KindEvidenceRegistered, truce.EvidenceRegistration{SHA256: hex.EncodeToString(sum[:]), MediaType: "image/png",
						CapturedBy: "team", CapturedAt: env.Clock.Now().Add(-time.Hour), Description: "Photo.", Case: pick(css)}
				}
				author := plausible[rng.IntN(len(plausible))]
				if rng.IntN(8) == 0 {
					author = members[rng.IntN(len(members))]
				}
				// As a client does: sign at the next seq of the committed log, so
				// a refused entry's seq is used again.
				next := env.In.Seq.Snapshot().Seq(author) + 1
				signed := env.Signers[author].SignSeq(t, kind, next, body)
				ack, err := env.In.Seq.Submit(ctx, signed, testkit.Opening(signed), nil)
				if err != nil {
					if truce.ErrorCode(err) == truce.CodeInternal {
						t.Fatalf("step %d: %s by %s: internal error %v", step, kind, author, err)
					}
					refused++
					continue
				}
				accepted++
				if ack.Record != nil {
					prefix := ack.Record.ID[:2]
					counts[prefix]++
				}
			}
			if err := env.In.Seq.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			live := env.In.Seq.Snapshot().OverdueFor(truce.Everything)
			if accepted < 100 || refused < 50 {
				t.Fatalf("%d accepted, %d refused: the walk does not explore", accepted, refused)
			}
			rep, err := audit.Replay(ctx, env.In.Store)
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			rebuilt, _, err := audit.Rebuild(ctx, env.In.Store)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(live, rebuilt.Overdue()) {
				t.Fatalf("overdue sets differ:\nlive    %v\nreplay  %v", live, rebuilt.Overdue())
			}
			types := map[string]int{}
			recs, _ := rebuilt.Records()
			for _, r := range recs {
				types[r.Type+"/"+r.Status]++
			}
			if types["finding/in_effect"] == 0 || types["consequence/open"]+types["consequence/escalated"] == 0 {
				t.Fatalf("the walk reached no finding in effect or no consequence: %v", types)
			}
			t.Logf("seed %d: %d accepted, %d refused, %d records (%v), %d overdue", seed, accepted, refused, rep.Records, types, len(live))
		})
	}
}
