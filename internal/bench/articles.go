package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/claims"
	"github.com/truce-mvm/truce/internal/gazetteer"
	"github.com/truce-mvm/truce/internal/rules"
	"github.com/truce-mvm/truce/internal/stories"
)

// ArticlesResult is the claims benchmark's articles: short reports of a
// few stories, with expected stories, copies and discrepancies.
type ArticlesResult struct {
	Articles int `json:"articles"`
	// Pairs of articles placed in one story, against the expected
	// stories: right, wrongly joined (false merges), missed.
	StoryPairs, FalseMerges, MissedPairs int
	// Figures graded corroborated although one party alone gives them
	// (target 0); expected figures whose grade fits what expected.json
	// says of them (claimed by one only — or disputed by another —, or
	// corroborated by claimants agreeing).
	OverGraded, Corroboration, CorroborationExpected int
	// Copies found of those expected, and copies marked that are not.
	Copies, CopiesExpected, FalseCopies int
	// Discrepancies flagged of those expected, and flags that match none.
	Flagged, Expected, FalseFlags int
	Missed                        []string `json:"missed,omitempty"`
	// Stories are the files as grouped, a story to a line, copies marked.
	Stories []string `json:"stories,omitempty"`
	False   []string `json:"false,omitempty"`
}

type expectedArticles struct {
	Stories       [][]string        `json:"stories"`
	Copies        map[string]string `json:"copies"`
	Corroboration []struct {
		Claim     string   `json:"claim"`
		Claimants []string `json:"claimants"`
		Files     []string `json:"files"`
		Status    string   `json:"status"`
	} `json:"corroboration"`
	Discrepancies []struct {
		Kind  string   `json:"kind"`
		Files []string `json:"files"`
		What  string   `json:"what"`
	} `json:"discrepancies"`
}

// article is one file of articles/: header lines, a blank line, text.
type article struct {
	file, outlet string
	published    time.Time
	text         string
}

func readArticle(path string) (article, error) {
	f, err := os.Open(path)
	if err != nil {
		return article{}, err
	}
	defer f.Close()
	a := article{file: filepath.Base(path)}
	sc := bufio.NewScanner(f)
	var body []string
	header := true
	for sc.Scan() {
		line := sc.Text()
		if header {
			if strings.TrimSpace(line) == "" {
				header = false
				continue
			}
			k, v, _ := strings.Cut(line, ":")
			switch strings.TrimSpace(k) {
			case "Outlet":
				a.outlet = strings.TrimSpace(v)
			case "Published":
				a.published, err = time.Parse(time.RFC3339, strings.TrimSpace(v))
				if err != nil {
					return a, fmt.Errorf("%s: %w", a.file, err)
				}
			}
			continue
		}
		body = append(body, line)
	}
	a.text = strings.TrimSpace(strings.Join(body, "\n"))
	return a, sc.Err()
}

// Articles groups the benchmark's articles as the latest rules do, finds
// their stories' discrepancies, and compares both with expected.json.
func Articles(dir string) (*ArticlesResult, error) {
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		return nil, err
	}
	var want expectedArticles
	if err := json.Unmarshal(b, &want); err != nil {
		return nil, fmt.Errorf("expected.json: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "articles", "*.txt"))
	if err != nil {
		return nil, err
	}
	var arts []article
	for _, f := range files {
		a, err := readArticle(f)
		if err != nil {
			return nil, err
		}
		arts = append(arts, a)
	}
	slices.SortStableFunc(arts, func(x, y article) int { return x.published.Compare(y.published) })
	in := make([]stories.Article, len(arts))
	extracted := make([][]truce.Claim, len(arts))
	for i, a := range arts {
		extracted[i] = claims.Extract(a.text, a.published)
		in[i] = stories.Article{ID: a.file, Published: a.published, Text: a.text, Dates: claims.Days(extracted[i])}
		if rules.Latest().Events {
			places := gazetteer.Find(a.text)
			in[i].Dates, in[i].Places, in[i].Where = claims.EventDays(extracted[i], a.text, a.published), rules.PlaceKeys(places), rules.LeadPlaceKeys(places, a.text)
		}
	}
	grouped := stories.Group(in, rules.Grouping())
	res := &ArticlesResult{Articles: len(arts)}

	storyOf := map[string]int{}
	for _, g := range grouped {
		storyOf[g.ID] = g.Story
	}
	wantStory := map[string]int{}
	for i, s := range want.Stories {
		for _, f := range s {
			wantStory[f] = i
		}
	}
	for i := range arts {
		for j := i + 1; j < len(arts); j++ {
			x, y := arts[i].file, arts[j].file
			same, wanted := storyOf[x] == storyOf[y], wantStory[x] == wantStory[y]
			switch {
			case same && wanted:
				res.StoryPairs++
			case same:
				res.FalseMerges++
			case wanted:
				res.MissedPairs++
			}
		}
	}
	lines := map[int][]string{}
	for _, g := range grouped {
		name := strings.TrimSuffix(g.ID, ".txt")
		if g.CopyOf != "" {
			name += "=" + strings.TrimSuffix(g.CopyOf, ".txt")
		}
		lines[g.Story] = append(lines[g.Story], name)
	}
	for _, n := range sortedInts(lines) {
		slices.Sort(lines[n])
		res.Stories = append(res.Stories, strings.Join(lines[n], " "))
	}
	res.CopiesExpected = len(want.Copies)
	for _, g := range grouped {
		switch {
		case g.CopyOf != "" && want.Copies[g.ID] == g.CopyOf:
			res.Copies++
		case g.CopyOf != "":
			res.FalseCopies++
			res.False = append(res.False, fmt.Sprintf("copy: %s of %s", g.ID, g.CopyOf))
		case want.Copies[g.ID] != "":
			res.Missed = append(res.Missed, fmt.Sprintf("copy: %s of %s", g.ID, want.Copies[g.ID]))
		}
	}

	// Discrepancies, story by story, among the originals.
	byStory := map[int][]claims.Source{}
	for i, g := range grouped {
		if g.CopyOf != "" {
			continue
		}
		a := arts[i]
		byStory[g.Story] = append(byStory[g.Story], claims.Source{Article: a.file, Outlet: a.outlet, Claims: extracted[i], Days: in[i].Dates, Published: a.published})
	}
	// Grades: what one party alone claims stays claimed, however many
	// outlets repeat it.
	graded := map[int][]truce.GradedClaim{}
	for _, n := range sortedInts(byStory) {
		var reports []*truce.Report
		for _, src := range byStory[n] {
			reports = append(reports, &truce.Report{ID: src.Article, SourceIngestion: truce.SourceIngestion{Outlet: src.Outlet, Claims: src.Claims, Published: src.Published}, Days: src.Days})
		}
		graded[n] = rules.Grade(reports)
		for _, g := range graded[n] {
			if g.Grade == truce.FigureCorroborated && oneParty(g.Claimants) {
				res.OverGraded++
				res.False = append(res.False, fmt.Sprintf("corroborated although one party alone gives it: %s %s by %v", g.Subject, g.Says, g.Claimants))
			}
		}
	}
	for _, w := range want.Corroboration {
		wantGrade := ""
		switch {
		case strings.Contains(w.Status, " only"):
			wantGrade = truce.FigureClaimed
		case strings.Contains(w.Status, "agree"):
			wantGrade = truce.FigureCorroborated
		default:
			continue
		}
		res.CorroborationExpected++
		var claimants []string
		for _, c := range w.Claimants {
			claimants = append(claimants, strings.ToLower(strings.SplitN(c, ":", 2)[0]))
		}
		slices.Sort(claimants)
		claimants = slices.Compact(claimants)
		found := false
		for _, g := range graded[storyOf[w.Files[0]]] {
			// One party's figure may also be disputed by another's: either
			// way it is not taken as established.
			if g.Grade != "" && slices.Equal(partiesOf(g.Claimants), claimants) &&
				(g.Grade == wantGrade || wantGrade == truce.FigureClaimed && g.Grade == truce.FigureDisputed) {
				found = true
			}
		}
		if found {
			res.Corroboration++
		} else {
			res.Missed = append(res.Missed, fmt.Sprintf("grade %s: %s (%s)", wantGrade, w.Claim, w.Status))
		}
	}
	type flag struct {
		kind  string
		files []string
		says  string
	}
	var flags []flag
	for _, n := range sortedInts(byStory) {
		find := claims.Find
		if rules.Latest().Events {
			find = claims.Compare
		}
		for _, d := range find(byStory[n]) {
			f := flag{kind: d.Kind, files: []string{d.A.Article}, says: d.Subject + ": " + d.A.Says}
			if d.B != nil {
				f.files = append(f.files, d.B.Article)
				f.says += " / " + d.B.Says
			}
			flags = append(flags, f)
		}
	}
	used := make([]bool, len(flags))
	res.Expected = len(want.Discrepancies)
	for _, w := range want.Discrepancies {
		found := false
		for i, f := range flags {
			if f.kind == w.Kind && allIn(f.files, w.Files) {
				found, used[i] = true, true
			}
		}
		if found {
			res.Flagged++
		} else {
			res.Missed = append(res.Missed, fmt.Sprintf("%s %v: %s", w.Kind, w.Files, w.What))
		}
	}
	for i, f := range flags {
		if !used[i] {
			res.FalseFlags++
			res.False = append(res.False, fmt.Sprintf("%s %v: %s", f.kind, f.files, f.says))
		}
	}
	return res, nil
}

// oneParty reports whether a figure's claimants are one party, with no
// observer beside it (outlets stating it on their own add nothing).
func oneParty(claimants []string) bool {
	ps := partiesOf(claimants)
	return len(ps) == 1 && (ps[0] == "pk" || ps[0] == "af")
}

// partiesOf are the kinds of claimants of a figure: pk, af, other; the
// outlets that state it on their own account left out.
func partiesOf(claimants []string) []string {
	var out []string
	for _, c := range claimants {
		if !strings.HasPrefix(c, "outlet: ") {
			out = append(out, strings.ToLower(strings.SplitN(c, ":", 2)[0]))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func allIn(xs, set []string) bool {
	for _, x := range xs {
		if !slices.Contains(set, x) {
			return false
		}
	}
	return true
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
