package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/claims"
)

// Targets of the claims benchmark (docs/performance.md).
const (
	casualtyPrecisionTarget = 0.95
	casualtyRecallTarget    = 0.85
	calendarTarget          = 0.90 // dates, ranges and durations, precision and recall
)

// benchClaim is a claim in the benchmark's schema.
type benchClaim struct {
	Kind     string  `json:"kind"`
	Count    *int    `json:"count,omitempty"`
	Approx   *string `json:"approx,omitempty"`
	CountMax *int    `json:"count_max,omitempty"`
	Status   string  `json:"status,omitempty"`
	Side     *string `json:"side,omitempty"`
	Group    string  `json:"group,omitempty"`
	Claimant string  `json:"claimant,omitempty"`
	Date     string  `json:"date,omitempty"`
	Weekday  *string `json:"weekday,omitempty"`
	From     string  `json:"from,omitempty"`
	To       string  `json:"to,omitempty"`
	Value    float64 `json:"value,omitempty"`
	Unit     string  `json:"unit,omitempty"`
}

// strict is what the benchmark's strict match compares; loose, for
// casualties, only the count and status.
func (c benchClaim) strict() string {
	switch c.Kind {
	case truce.ClaimCasualties:
		side := ""
		if c.Side != nil {
			side = strings.ToUpper(*c.Side)
		}
		claimant := strings.ToLower(c.Claimant)
		if strings.HasPrefix(claimant, "other") {
			claimant = "other"
		}
		if claimant == "" {
			claimant = "none"
		}
		return fmt.Sprintf("casualties|%d|%s|%s|%s", deref(c.Count), c.Status, side, claimant)
	case truce.ClaimDate:
		wd := ""
		if c.Weekday != nil {
			wd = strings.ToLower(*c.Weekday)
		}
		return "date|" + c.Date + "|" + wd
	case truce.ClaimRange:
		return "date_range|" + c.From + "|" + c.To
	case truce.ClaimDuration:
		return fmt.Sprintf("duration|%g|%s", c.Value, strings.TrimSuffix(strings.ToLower(c.Unit), "s"))
	}
	return c.Kind
}

func (c benchClaim) loose() string {
	return fmt.Sprintf("casualties|%d|%s", deref(c.Count), c.Status)
}

func deref(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// sentence is one line of the benchmark's sentences.jsonl.
type sentence struct {
	ID        string       `json:"id"`
	Lang      string       `json:"lang"`
	Published time.Time    `json:"published"`
	Context   string       `json:"context"`
	Text      string       `json:"text"`
	Claims    []benchClaim `json:"claims"`
}

// Score is precision and recall of one kind of claim.
type Score struct {
	Kind      string  `json:"kind"`
	Expected  int     `json:"expected"`
	Predicted int     `json:"predicted"`
	Matched   int     `json:"matched"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Target    float64 `json:"target_precision"`
	TargetR   float64 `json:"target_recall"`
}

func (s *Score) finish() {
	s.Precision, s.Recall = ratio(s.Matched, s.Predicted), ratio(s.Matched, s.Expected)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// ClaimsResult is the sentence-level claims benchmark: per kind, strict,
// and casualties loose (count and status only).
type ClaimsResult struct {
	Sentences      int     `json:"sentences"`
	Kinds          []Score `json:"kinds"`
	CasualtyLoose  Score   `json:"casualties_loose"`
	NegativesEmpty int     `json:"negatives_left_empty"`
	Negatives      int     `json:"negatives"`
	Worst          []Miss  `json:"worst,omitempty"`
}

// Miss is a sentence the extractor got wrong: what it missed, what it
// made up.
type Miss struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Missed   []string `json:"missed"`
	Spurious []string `json:"spurious"`
}

// Claims runs the claim extractor over the benchmark's annotated
// sentences (dir/sentences.jsonl) and scores it as the benchmark's own
// scorer does; predictions, if not nil, receives its prediction lines.
func Claims(dir string, predictions io.Writer) (*ClaimsResult, error) {
	f, err := os.Open(filepath.Join(dir, "sentences.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res := &ClaimsResult{}
	scores := map[string]*Score{}
	for _, k := range claimKinds {
		sc := &Score{Kind: k, Target: calendarTarget, TargetR: calendarTarget}
		if k == truce.ClaimCasualties {
			sc.Target, sc.TargetR = casualtyPrecisionTarget, casualtyRecallTarget
		}
		scores[k] = sc
	}
	res.CasualtyLoose.Kind = "casualties (count and status)"
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s sentence
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("sentences.jsonl: %w", err)
		}
		res.Sentences++
		got := predict(s)
		if predictions != nil {
			b, _ := json.Marshal(struct {
				ID     string       `json:"id"`
				Claims []benchClaim `json:"claims"`
			}{s.ID, got})
			fmt.Fprintf(predictions, "%s\n", b)
		}
		if len(s.Claims) == 0 {
			res.Negatives++
			if len(got) == 0 {
				res.NegativesEmpty++
			}
		}
		miss := Miss{ID: s.ID, Text: s.Text}
		for _, k := range claimKinds {
			want, have := ofKind(s.Claims, k), ofKind(got, k)
			n, missed, spurious := matched(benchClaim.strict, want, have)
			sc := scores[k]
			sc.Matched, sc.Expected, sc.Predicted = sc.Matched+n, sc.Expected+len(want), sc.Predicted+len(have)
			miss.Missed, miss.Spurious = append(miss.Missed, missed...), append(miss.Spurious, spurious...)
		}
		want, have := ofKind(s.Claims, truce.ClaimCasualties), ofKind(got, truce.ClaimCasualties)
		n, _, _ := matched(benchClaim.loose, want, have)
		l := &res.CasualtyLoose
		l.Matched, l.Expected, l.Predicted = l.Matched+n, l.Expected+len(want), l.Predicted+len(have)
		if len(miss.Missed)+len(miss.Spurious) > 0 {
			res.Worst = append(res.Worst, miss)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, k := range claimKinds {
		scores[k].finish()
		res.Kinds = append(res.Kinds, *scores[k])
	}
	res.CasualtyLoose.finish()
	slices.SortStableFunc(res.Worst, func(a, b Miss) int {
		return (len(b.Missed) + len(b.Spurious)) - (len(a.Missed) + len(a.Spurious))
	})
	return res, nil
}

// claimKinds are the kinds the benchmark annotates.
var claimKinds = []string{truce.ClaimCasualties, truce.ClaimDate, truce.ClaimRange, truce.ClaimDuration}

func ofKind(cs []benchClaim, kind string) []benchClaim {
	return slices.DeleteFunc(slices.Clone(cs), func(c benchClaim) bool { return c.Kind != kind })
}

// matched matches the claims expected with those predicted as multisets,
// by key: how many are found, and those left over on either side.
func matched(key func(benchClaim) string, want, have []benchClaim) (n int, missed, spurious []string) {
	left := map[string]int{}
	for _, c := range have {
		left[key(c)]++
	}
	for _, c := range want {
		if k := key(c); left[k] > 0 {
			left[k]--
			n++
		} else {
			missed = append(missed, k)
		}
	}
	for k, m := range left {
		for range m {
			spurious = append(spurious, k)
		}
	}
	slices.Sort(spurious)
	return n, missed, spurious
}

// predict extracts the claims of a benchmark sentence, its context (the
// sentence before it, which may name the claimant) read first but not
// itself counted.
func predict(s sentence) []benchClaim {
	text := s.Text
	if s.Context != "" {
		text = s.Context + "\n" + s.Text
	}
	out := []benchClaim{}
	for _, c := range claims.Extract(text, s.Published) {
		if s.Context != "" && !strings.Contains(s.Text, c.Sentence) || c.Kind == truce.ClaimDay {
			continue // the benchmark annotates no day named by its weekday alone
		}
		out = append(out, toBench(c))
	}
	return out
}

func toBench(c truce.Claim) benchClaim {
	b := benchClaim{Kind: c.Kind}
	switch c.Kind {
	case truce.ClaimCasualties:
		n := c.Count
		b.Status, b.Group = c.Status, c.Group
		if c.Approx != "dozens" {
			b.Count = &n
		}
		if c.Approx != "" {
			b.Approx = &c.Approx
		}
		if c.CountMax > 0 {
			m := c.CountMax
			b.CountMax = &m
		}
		if c.Side != "" {
			side := c.Side
			b.Side = &side
		}
		b.Claimant = cmpOr(c.By, "none")
	case truce.ClaimDate:
		b.Date = c.Date.Format(time.DateOnly)
		if c.Weekday != nil {
			wd := c.Weekday.String()
			b.Weekday = &wd
		}
	case truce.ClaimRange:
		b.From, b.To = c.From.Format(time.DateOnly), c.To.Format(time.DateOnly)
	case truce.ClaimDuration:
		switch {
		case c.Hours > 0:
			b.Value, b.Unit = float64(c.Hours), "hour"
		case c.Days%7 == 0 && strings.Contains(strings.ToLower(c.Sentence), "week"):
			b.Value, b.Unit = float64(c.Days/7), "week"
		default:
			b.Value, b.Unit = float64(c.Days), "day"
		}
	}
	return b
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
