package claims

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gazetteer"
)

// Casualty figures in English, read by a small grammar over tokens rather
// than one pattern per phrasing. A figure is a number phrase (digits or
// words, with its qualifier: "more than 200", "between 10 and 15", "a
// dozen", "dozens"); it is a casualty figure when a status stands after it
// across its noun phrase and auxiliaries ("23 of its soldiers were
// killed", "nine dead", "58 soldiers lost their lives") or an active verb
// stands before it ("killed 58 Pakistani soldiers", "the bodies of 19",
// "the toll rose to 23"). Whose people they are comes from the noun
// phrase ("Pakistani soldiers", "of its own"), else from who did it and
// who says so, else from where it happened. Who says so comes from the
// reporting clause of the figure's own clause ("Pakistan said …, while
// Afghanistan said …"), before or after it, or from the sentence before
// ("It added that …").

// token is a word or a mark of punctuation.
type token struct {
	text, low string
}

func tokenize(s string) []token {
	var out []token
	word := func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '\'' || r == '’' || r == ','
	}
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case word(r) && r != ',' && r != '\'' && r != '’':
			j := i
			for j < len(rs) && word(rs[j]) {
				// A comma belongs to a number only between digits ("1,000").
				if rs[j] == ',' && !(j > i && unicode.IsDigit(rs[j-1]) && j+1 < len(rs) && unicode.IsDigit(rs[j+1])) {
					break
				}
				j++
			}
			w := strings.TrimRight(string(rs[i:j]), "'’-")
			// "Pakistan's" → "Pakistan" "'s"
			if k := strings.IndexAny(w, "'’"); k > 0 {
				out = append(out, token{w[:k], strings.ToLower(w[:k])}, token{"'s", "'s"})
			} else if w != "" {
				out = append(out, token{w, strings.ToLower(w)})
			}
			if j == i {
				j++
			}
			i = j
		default:
			out = append(out, token{string(r), string(r)})
			i++
		}
	}
	return out
}

var units = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
	"nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// cardinal reads a number written in digits or words ("23", "1,000",
// "twenty-three").
func cardinal(w string) (int, bool) {
	if n, ok := units[w]; ok {
		return n, true
	}
	if a, b, ok := strings.Cut(w, "-"); ok {
		x, ok1 := units[a]
		y, ok2 := units[b]
		if ok1 && ok2 && x >= 20 && x%10 == 0 && y < 10 {
			return x + y, true
		}
		return 0, false
	}
	n, err := strconv.Atoi(strings.ReplaceAll(w, ",", ""))
	return n, err == nil && n >= 0 && n < 1000000
}

// qualifiers stand before a figure.
var qualifiers = []struct {
	words  []string
	approx string
}{
	{[]string{"at", "least"}, "at_least"}, {[]string{"no", "fewer", "than"}, "at_least"}, {[]string{"not", "less", "than"}, "at_least"},
	{[]string{"more", "than"}, "more_than"}, {[]string{"over"}, "more_than"}, {[]string{"upwards", "of"}, "more_than"},
	{[]string{"in", "excess", "of"}, "more_than"},
	{[]string{"about"}, "about"}, {[]string{"around"}, "about"}, {[]string{"some"}, "about"}, {[]string{"roughly"}, "about"},
	{[]string{"nearly"}, "about"}, {[]string{"almost"}, "about"}, {[]string{"close", "to"}, "about"},
	{[]string{"approximately"}, "about"}, {[]string{"an", "estimated"}, "about"},
	{[]string{"up", "to"}, "up_to"}, {[]string{"as", "many", "as"}, "up_to"},
}

// figure is a number phrase: tokens [start, end), its value and qualifier.
type figure struct {
	start, end    int
	count, max    int
	approx        string
	single, group bool // "a soldier"; the figure is the number of a group word ("dozens")
}

func matchWords(ts []token, i int, words []string) bool {
	if i+len(words) > len(ts) {
		return false
	}
	for k, w := range words {
		if ts[i+k].low != w {
			return false
		}
	}
	return true
}

// figureAt reads a number phrase starting at token i.
func figureAt(ts []token, i int) (figure, bool) {
	f := figure{start: i}
	for _, q := range qualifiers {
		if matchWords(ts, i, q.words) {
			f.approx = q.approx
			i += len(q.words)
			break
		}
	}
	if i >= len(ts) {
		return f, false
	}
	w := ts[i].low
	switch {
	case w == "between" && f.approx == "":
		lo, ok1 := numberAt(ts, i+1)
		if ok1 && i+3 < len(ts) && ts[i+2].low == "and" {
			if hi, ok2 := numberAt(ts, i+3); ok2 && hi > lo {
				return figure{start: f.start, end: i + 4, count: lo, max: hi, approx: "at_least"}, true
			}
		}
		return f, false
	case w == "dozens":
		f.approx, f.end, f.group = "dozens", i+1, true
		if i+1 < len(ts) && ts[i+1].low == "of" {
			f.end++
		}
		return f, true
	case (w == "a" || w == "two" || w == "three") && i+1 < len(ts) && ts[i+1].low == "dozen":
		n, _ := cardinal(w)
		if w == "a" {
			n = 1
		}
		f.count, f.end = 12*n, i+2
		f.approx = cmp.Or(f.approx, "about") // "at least a dozen" keeps its own qualifier
		return f, true
	case w == "a" || w == "an" || w == "one":
		if i+1 < len(ts) && ts[i+1].low == "family" && i+3 < len(ts) && ts[i+2].low == "of" {
			if n, ok := cardinal(ts[i+3].low); ok {
				f.count, f.end = n, i+4
				return f, true
			}
		}
		if w != "one" {
			f.count, f.end, f.single = 1, i+1, true
			return f, true
		}
	}
	if lo, hi, ok := strings.Cut(w, "-"); ok { // "15-20"
		a, ok1 := cardinal(lo)
		b, ok2 := cardinal(hi)
		if ok1 && ok2 && a > 0 && b > a && !isNumberWord(lo) {
			return figure{start: f.start, end: i + 1, count: a, max: b, approx: "at_least"}, true
		}
	}
	n, ok := numberAt(ts, i)
	if !ok {
		return f, false
	}
	f.count, f.end = n, i+1
	if i+2 < len(ts) && ts[i+1].low == "to" { // "15 to 20"
		if hi, ok := numberAt(ts, i+2); ok && hi > n {
			f.max, f.end = hi, i+3
			if f.approx == "" {
				f.approx = "at_least"
			}
		}
	}
	return f, true
}

func isNumberWord(w string) bool { _, ok := units[w]; return ok }

// numberAt reads one number token (not a year, not a time).
func numberAt(ts []token, i int) (int, bool) {
	if i >= len(ts) {
		return 0, false
	}
	n, ok := cardinal(ts[i].low)
	if !ok || n == 0 || isYear(ts[i].low) {
		return 0, false
	}
	return n, true
}

// statuses are what happens to people, as phrases; each is a status
// standing after its figure ("were killed", "lost their lives").
var statuses = []struct {
	words  []string
	status string
}{
	{[]string{"killed"}, "killed"}, {[]string{"dead"}, "killed"}, {[]string{"died"}, "killed"}, {[]string{"die"}, "killed"},
	{[]string{"martyred"}, "killed"}, {[]string{"deaths"}, "killed"}, {[]string{"fatalities"}, "killed"},
	{[]string{"lost", "their", "lives"}, "killed"}, {[]string{"lost", "his", "life"}, "killed"}, {[]string{"lost", "her", "life"}, "killed"},
	{[]string{"embraced", "martyrdom"}, "killed"}, {[]string{"embraced", "shahadat"}, "killed"}, {[]string{"embraced", "shahadah"}, "killed"},
	{[]string{"neutralised"}, "killed"}, {[]string{"neutralized"}, "killed"}, {[]string{"eliminated"}, "killed"},
	{[]string{"sent", "to", "hell"}, "killed"}, {[]string{"perished"}, "killed"}, {[]string{"slain"}, "killed"},
	{[]string{"succumbed"}, "killed"}, {[]string{"feared", "dead"}, "killed"}, {[]string{"brought", "in", "dead"}, "killed"},
	{[]string{"wounded"}, "wounded"}, {[]string{"injured"}, "wounded"}, {[]string{"hurt"}, "wounded"}, {[]string{"injuries"}, "wounded"},
	{[]string{"sustained", "injuries"}, "wounded"}, {[]string{"sustained", "wounds"}, "wounded"}, {[]string{"treated", "for"}, "wounded"},
	{[]string{"captured"}, "captured"}, {[]string{"taken", "captive"}, "captured"}, {[]string{"taken", "prisoner"}, "captured"},
	{[]string{"taken", "hostage"}, "captured"}, {[]string{"captive"}, "captured"},
	{[]string{"missing"}, "missing"}, {[]string{"unaccounted", "for"}, "missing"},
}

// actives are verbs whose object is the figure ("killed 58 soldiers").
var actives = map[string]string{
	"killed": "killed", "killing": "killed", "kill": "killed", "neutralised": "killed", "neutralized": "killed",
	"eliminated": "killed", "eliminating": "killed", "lost": "killed", "losing": "killed", "slew": "killed",
	"wounded": "wounded", "wounding": "wounded", "injured": "wounded", "injuring": "wounded",
	"captured": "captured", "capturing": "captured",
}

// between may stand between a figure and its status: its noun phrase
// and auxiliaries.
var between = set("of", "its", "their", "our", "his", "own", "them", "others", "other", "more", "were", "was", "had", "have",
	"has", "been", "be", "being", "are", "is", "also", "reportedly", "believed", "thought", "said", "to", "later", "since", "on",
	"the", "side", "brave", "young", "innocent", "and", "allied", "affiliated", "security", "border", "civilian", "army", "armed",
	"afghan", "afghans", "pakistani", "pakistanis", "pakistan", "taliban", "'s", "frontier", "corps", "police", "government",
	"people", "persons", "men", "women", "children", "child", "soldier", "soldiers", "troops", "personnel", "fighters", "fighter",
	"militants", "militant", "civilians", "policemen", "policeman", "officers", "officer", "guards", "guard", "attackers",
	"terrorists", "insurgents", "combatants", "shepherds", "journalists", "passengers", "passers-by", "boy", "girl", "man",
	"woman", "members", "villagers", "residents", "mujahideen", "khawarij", "ttp", "quickly", "all", "who", "went", "gone",
	"ongoing", "at", "least", "feared", "force", "forces", "being", "unit", "from", "remain", "remained", "tribal", "bus",
	"still", "now", "it", "they", "described", "as", "termed", "called", "labelled", "labeled", "whom", "may", "might",
	"could", "would", "feared")

// groups name whose people a figure counts.
var groups = map[string]string{
	"soldier": "soldiers", "soldiers": "soldiers", "troops": "soldiers", "personnel": "soldiers", "guards": "soldiers",
	"guard": "soldiers", "men": "soldiers", "army": "soldiers", "forces": "soldiers",
	"fighters": "fighters", "fighter": "fighters", "mujahideen": "fighters", "taliban": "fighters",
	"militants": "militants", "militant": "militants", "attackers": "militants", "terrorists": "militants", "insurgents": "militants",
	"khawarij": "militants", "bomber": "militants",
	"civilians": "civilians", "civilian": "civilians", "children": "civilians", "child": "civilians", "women": "civilians",
	"boy": "civilians", "girl": "civilians", "shepherds": "civilians", "journalists": "civilians", "passengers": "civilians",
	"passers-by": "civilians", "villagers": "civilians", "residents": "civilians", "farmer": "civilians", "farmers": "civilians",
	"driver": "civilians", "drivers": "civilians", "student": "civilians", "students": "civilians", "elders": "civilians",
	"labourers": "civilians", "workers": "civilians", "teacher": "civilians", "traders": "civilians", "pilgrims": "civilians",
	"worshippers": "civilians", "doctors": "civilians", "nurses": "civilians", "cadets": "soldiers", "recruits": "soldiers",
	"commandos": "soldiers", "rangers": "soldiers", "levies": "police", "constables": "police", "constable": "police",
	"gunmen": "militants", "gunman": "militants", "assailants": "militants", "raiders": "militants",
	"policemen": "police", "policeman": "police", "police": "police", "officers": "police", "officer": "police",
	"people": "people", "persons": "people", "members": "people", "combatants": "people", "pakistanis": "people", "afghans": "people",
}

// notPeople stand after a figure that counts something else.
var notPeople = set("posts", "post", "positions", "position", "checkpoints", "tanks", "vehicles", "km", "kilometres", "kilometers",
	"miles", "hours", "hour", "days", "day", "weeks", "week", "months", "years", "year", "percent", "%", "trucks", "families",
	"refugees", "suspects", "arrested", "beds", "rounds", "shells", "members-strong", "delegates", "delegation", "points",
	"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
	"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "st", "nd", "rd", "th", "million", "billion",
	"tonnes", "tons", "crossings", "times", "villages", "towns", "areas", "houses", "homes", "shops", "buildings", "bunkers")

func set(ws ...string) map[string]bool {
	m := map[string]bool{}
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// statusAt reads a status phrase at token i.
func statusAt(ts []token, i int) (string, int) {
	for _, st := range statuses {
		if matchWords(ts, i, st.words) {
			return st.status, len(st.words)
		}
	}
	return "", 0
}

// casualty is a figure read as a casualty claim, with where its noun
// phrase and its verb are.
type casualty struct {
	fig         figure
	status      string
	active      bool // the figure is the object of a verb: the agent is another
	own         bool // … except for "lost" and "the bodies of": the agent's own
	np          []token
	agent       []token // who did it, for an active verb: the words before it
	inheritFrom int     // the figure whose status it takes ("nine of them"), or -1
	part        bool    // … as a part of it, so also its side ("eleven children were among 27 civilians")
	same        bool    // … as the same figure told otherwise ("the real figure is 58"), so its side and group too
	stop        int     // the token after a status that follows the figure, or 0
}

// englishCasualties reads the casualty claims of one sentence. atts are
// the sentence's attributions; prevPlace is the side the places of the
// sentence before lie on, for a sentence that names none ("A boy was
// among the dead" after "Shells struck a house in Spin Boldak").
func englishCasualties(s string, ts []token, atts []attribution, prevPlace string) []truce.Claim {
	var found []casualty
	for i := 0; i < len(ts); i++ {
		if i > 0 && (ts[i-1].low == "resolution" || months[ts[i-1].low] != 0 || monthAbbr[ts[i-1].low] != 0) {
			continue // "Resolution 2231", "October 12"
		}
		f, ok := figureAt(ts, i)
		if !ok {
			continue
		}
		if f.single && !personAhead(ts, f.end) {
			continue
		}
		c, ok := readCasualty(ts, f, found)
		if ok {
			found = append(found, c)
			i = f.end - 1
		}
	}
	place, placed := "", false
	where := func() string { // the gazetteer, read once a sentence
		if !placed {
			place, placed = placeSide(s), true
			if place == "" {
				place = prevPlace
			}
		}
		return place
	}
	for k, c := range found {
		if c.status == "" && c.inheritFrom >= 0 && c.inheritFrom < len(found) {
			found[k].status = found[c.inheritFrom].status
		}
	}
	// An official no words place ("local officials", "the ministry") is
	// one of where it happened, else of those whose losses it gives.
	officials := map[int]string{}
	for _, c := range found {
		by := attributionOf(atts, c.fig.start)
		if !by.official || by.side != "" || officials[by.at] != "" || c.status == "" {
			continue
		}
		agent := nationality(joinLow(c.agent))
		switch {
		case c.active && !c.own && (agent == "PK" || agent == "AF"):
			officials[by.at] = agent // "Forces of the Islamic Emirate killed 58 …, the spokesman said"
		case where() != "":
			officials[by.at] = where()
		case strings.Contains(strings.ToLower(by.text), "police"):
			officials[by.at] = "PK"
		default:
			officials[by.at] = sideOfCasualty(c, groupOf(c.np), by, ts, where)
		}
	}
	claims := make([]*truce.Claim, len(found))
	var last *truce.Claim
	var lastBy attribution
	for k, c := range found {
		if c.status == "" {
			continue
		}
		by := attributionOf(atts, c.fig.start)
		if by.official && by.side == "" {
			by.side = officials[by.at]
		}
		claim := &truce.Claim{Kind: truce.ClaimCasualties, Sentence: s, Count: c.fig.count, Status: c.status,
			Approx: c.fig.approx, CountMax: c.fig.max, Group: groupOf(c.np), Claimant: by.text, By: by.side}
		claim.Side = sideOfCasualty(c, claim.Group, by, ts, where)
		// "… and 29 wounded", "… and wounded 30 more": the same people as
		// the figure before, unless it names others.
		if last != nil && continues(c.np) && lastBy == by {
			claim.Side, claim.Group = last.Side, last.Group
		}
		claims[k], last, lastBy = claim, claim, by
	}
	// A part takes the side of its whole, which may come after it; the
	// same figure told otherwise takes all of it.
	for k, c := range found {
		if claims[k] == nil || c.inheritFrom < 0 || c.inheritFrom >= len(found) || claims[c.inheritFrom] == nil {
			continue
		}
		whole := claims[c.inheritFrom]
		switch {
		case c.same:
			claims[k].Side, claims[k].Group = whole.Side, whole.Group
		case c.part && claims[k].Side == "":
			claims[k].Side = whole.Side
		}
	}
	var out []truce.Claim
	for _, c := range claims {
		if c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// ownWord marks people as the speaker's own ("23 of its soldiers", "nine
// of their own").
var ownWord = set("its", "their", "our", "own")

var parenthetical = set("including", "most", "many", "some", "all", "among", "mostly", "both", "nine", "two", "three")

func quote(w string) bool {
	return w == "'" || w == "’" || w == "‘" || w == "\"" || w == "“" || w == "”"
}

func groupWord(w string) bool { return groups[w] != "" }

// continues reports whether a figure's noun phrase names no one of its
// own ("29", "30 more", "16 others"), and so counts the people of the
// figure before it.
func continues(np []token) bool {
	for _, t := range np {
		switch {
		case ownWord[t.low]:
			return false // their own: the claimant's side, said for itself
		case t.low == "more" || t.low == "others" || t.low == "other":
			return true
		case groups[t.low] != "" || t.low == "pakistani" || t.low == "afghan" || t.low == "taliban":
			return false
		}
	}
	return true
}

// personAhead reports whether a person noun follows "a"/"an" closely: "a
// soldier", "a 14-year-old boy".
func personAhead(ts []token, i int) bool {
	for k := i; k < len(ts) && k < i+3; k++ {
		if _, ok := groups[ts[k].low]; ok && !strings.HasSuffix(ts[k].low, "s") || ts[k].low == "man" || ts[k].low == "woman" {
			return true
		}
	}
	return false
}

// readCasualty decides whether a figure is a casualty figure, and what
// happened to those it counts.
func readCasualty(ts []token, f figure, before []casualty) (casualty, bool) {
	c := casualty{fig: f, inheritFrom: -1}
	for k := f.end; k < len(ts) && k < f.end+3 && !groupWord(ts[k].low); k++ {
		if notPeople[ts[k].low] {
			return c, false // "19 Afghan posts"
		}
	}
	if f.end < len(ts) && notPeople[ts[f.end].low] || f.end < len(ts) && strings.Contains(ts[f.end].low, "year-old") && f.end+1 >= len(ts) {
		return c, false
	}
	if f.end < len(ts) && (ts[f.end].text == ":" || ts[f.end].text == "%") {
		return c, false
	}
	// Before it: an active verb, "the bodies of", "the toll … to".
	j := f.start - 1
	for j >= 0 && (ts[j].low == "had" || ts[j].low == "have" || ts[j].low == "also" || ts[j].low == "another" || ts[j].low == "the" || quote(ts[j].text)) {
		j--
	}
	if j >= 2 && matchWords(ts, j-2, []string{"sent", "to", "hell"}) {
		c.status, c.active = "killed", true
		c.np, c.agent = nounPhrase(ts, f.end), ts[max(0, j-8):j-2]
		return c, true
	}
	if (ts[max(0, j)].low == "took" || ts[max(0, j)].low == "taking" || ts[max(0, j)].low == "taken") && j >= 0 {
		np := nounPhrase(ts, f.end)
		if e := f.end + len(np); e < len(ts) && (ts[e].low == "hostage" || ts[e].low == "captive" || ts[e].low == "prisoner") {
			c.status, c.active, c.np, c.agent = "captured", true, np, ts[max(0, j-6):j]
			return c, true
		}
	}
	if j >= 0 {
		w := ts[j].low
		if st, ok := actives[w]; ok {
			c.status, c.active, c.own = st, true, w == "lost" || w == "losing"
			c.np = nounPhrase(ts, f.end)
			c.agent = ts[max(0, j-6):j]
			return c, true
		}
		// "had treated three people for shrapnel wounds"
		if (w == "treated" || w == "treating") && forAhead(ts, f.end) {
			c.status, c.np = "wounded", nounPhrase(ts, f.end)
			return c, true
		}
		if w == "of" && j >= 1 && (ts[j-1].low == "bodies" || ts[j-1].low == "death" || ts[j-1].low == "deaths" || ts[j-1].low == "remains") {
			// Whose bodies: those named before ("Afghan forces had
			// abandoned the bodies of 19 fighters").
			c.status, c.np, c.active, c.own = "killed", nounPhrase(ts, f.end), true, true
			c.agent = ts[max(0, j-8) : j-1]
			return c, true
		}
		if (w == "to" || w == "at") && j >= 1 {
			for k := j - 1; k >= 0 && k >= j-8; k-- {
				if ts[k].low == "toll" || (ts[k].low == "killed" && w == "at") {
					c.status, c.np = "killed", ts[max(0, k-4):j]
					return c, true
				}
			}
		}
		// "Kabul says the real figure is 58": the figure before, told otherwise.
		if (w == "is" || w == "was" || w == "at") && len(before) > 0 {
			for k := j - 1; k >= 0 && k >= j-3; k-- {
				if ts[k].low == "figure" || ts[k].low == "number" || ts[k].low == "tally" || ts[k].low == "toll" {
					c.inheritFrom, c.same = len(before)-1, true
					return c, true
				}
			}
		}
		if w == "including" && len(before) > 0 {
			c.inheritFrom, c.part, c.np = len(before)-1, true, nounPhrase(ts, f.end)
			return c, true
		}
		// "The attackers, numbering about a dozen, were all killed": whom
		// it counts stands before it, its status after.
		if (w == "numbering" || w == "numbered") && f.end < len(ts) && ts[f.end].text == "," {
			end := j
			if end > 0 && ts[end-1].text == "," {
				end--
			}
			from := end
			for from > 0 && ts[from-1].text != "," {
				from--
			}
			if st, stop, ok := statusAfter(ts, f.end+1, 4); ok {
				c.status, c.stop, c.np = st, stop, ts[from:end]
				return c, true
			}
		}
	}
	// After it: its noun phrase, auxiliaries, then a status.
	limit := f.end + 12
	for k := f.end; k < len(ts) && k < limit; k++ {
		w := ts[k].low
		if st, n := statusAt(ts, k); n > 0 && !(k > 0 && ts[k-1].low == "the") {
			c.status, c.stop = st, k+n
			c.np = ts[f.end:k]
			return c, true
		}
		if w == "the" && k > f.end && ts[k-1].low == "of" { // "three of the wounded died"
			if _, n := statusAt(ts, k+1); n > 0 {
				k += n
				continue
			}
		}
		if w == "among" { // "eleven children were among 27 civilians killed", "a boy was among the dead"
			c.np = ts[f.end:k]
			if k+2 < len(ts) && ts[k+1].low == "the" {
				if st, n := statusAt(ts, k+2); n > 0 {
					c.status, c.stop = st, k+2+n
					return c, true
				}
			}
			c.inheritFrom, c.part = len(before)+1, true // the figure that follows
			return c, true
		}
		if w == "of" && k+1 < len(ts) && ts[k+1].low == "them" && len(before) > 0 { // "nine of them children"
			c.inheritFrom, c.part = len(before)-1, true
			c.np = ts[k+2 : min(len(ts), k+3)]
			return c, true
		}
		if k > f.end && ts[k-1].low == "and" {
			if g, ok := figureAt(ts, k); ok && (!g.single || personAhead(ts, g.end)) { // "13 soldiers and two civilians were killed"
				c.np, c.inheritFrom = ts[f.end:k-1], len(before)+1
				return c, true
			}
		}
		if w == "," && k+1 < len(ts) && parenthetical[ts[k+1].low] {
			// ", including a lieutenant colonel and a major," — skip to its end
			e := k + 1
			for e < len(ts) && ts[e].text != "," {
				e++
			}
			if e < len(ts) {
				limit += e - k
				k = e
				continue
			}
			break
		}
		// "Four elders who had gone to mediate … remain unaccounted for":
		// a relative clause, to the status of the figure.
		if (w == "who" || w == "whom") && k > f.end {
			if st, stop, ok := statusAfter(ts, k+1, 15); ok {
				c.status, c.stop, c.np = st, stop, ts[f.end:k]
				return c, true
			}
		}
		proper := ts[k].text != w && k > f.end // a name: "Angoor Adda"
		// The head noun may be one no list has ("four cleaners"): a plural
		// right after the figure.
		head := k == f.end && f.count > 1 && len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss")
		if !between[w] && !strings.HasSuffix(w, "year-old") && groups[w] == "" && !quote(w) && !proper && !head {
			break
		}
		if _, ok := cardinal(w); ok && k > f.end && w != "one" {
			break
		}
	}
	return c, false
}

// statusAfter finds the status of a clause within n tokens of i, before
// any comma or other figure.
func statusAfter(ts []token, i, n int) (string, int, bool) {
	for k := i; k < len(ts) && k < i+n; k++ {
		if st, m := statusAt(ts, k); m > 0 {
			return st, k + m, true
		}
		if ts[k].text == "," || clauseBreaks[ts[k].low] || isDigitWord(ts[k].low) {
			return "", 0, false
		}
	}
	return "", 0, false
}

// forAhead reports whether "for" follows a figure's noun phrase: what
// people were treated for.
func forAhead(ts []token, i int) bool {
	k := i + len(nounPhrase(ts, i))
	return k < len(ts) && ts[k].low == "for"
}

// nounPhrase is the words after a figure that say whom it counts.
func nounPhrase(ts []token, i int) []token {
	for i < len(ts) && quote(ts[i].text) { // killed "more than 10" police officers
		i++
	}
	k := i
	for k < len(ts) && k < i+5 && (between[ts[k].low] || groups[ts[k].low] != "") && ts[k].low != "and" && ts[k].low != "in" {
		k++
	}
	return ts[i:k]
}

func groupOf(np []token) string {
	for _, t := range np {
		if g := groups[t.low]; g != "" {
			if g == "soldiers" && t.low == "men" {
				continue
			}
			return g
		}
	}
	for _, t := range np {
		if t.low == "men" {
			return "soldiers"
		}
	}
	return "people"
}

// attribution is who a clause says gives its figures: a side (PK, AF,
// other) and the words naming them.
type attribution struct {
	at         int // the reporting verb's token
	clause     [2]int
	side, text string
	official   bool // an office whose side is where it sits ("local officials", "the city's police spokesman")
	citing     bool // "citing a district official": whom an outlet's report gives as its source
}

var reporting = set("said", "says", "say", "told", "claimed", "claims", "claim", "stated", "announced", "confirmed",
	"saying", "claiming", "adding", "insisting", "stating",
	"acknowledged", "added", "reported", "alleged", "wrote", "insisted", "put", "recorded")

// clauseBreaks end the reach of an attribution: "…, while Afghanistan
// said …".
var clauseBreaks = set(";", "while", "whereas", "but", "—", "–")

// attributions finds the reporting clauses of a sentence.
func attributions(ts []token, context attribution) []attribution {
	var out []attribution
	var bounds []int
	for i, t := range ts {
		if clauseBreaks[t.low] {
			bounds = append(bounds, i)
		}
	}
	clauseOf := func(i int) [2]int {
		c := [2]int{0, len(ts)}
		for _, b := range bounds {
			if b < i {
				c[0] = b
			} else if b > i {
				c[1] = b
				break
			}
		}
		return c
	}
	add := func(i int, who string) {
		a := attribution{at: i, clause: clauseOf(i), text: who, side: claimantSide(who)}
		if a.side == "" && official(who) {
			a.side, a.official = placeSide(who), true
		}
		if pronoun(who) && (context.side != "" || context.text != "") {
			a.side, a.text, a.official = context.side, context.text, context.official
		}
		if a.side != "" || a.text != "" {
			out = append(out, a)
		}
	}
	for i, t := range ts {
		switch {
		case t.low == "according" && i+1 < len(ts) && ts[i+1].low == "to":
			add(i, words(ts, i+2, min(len(ts), i+10)))
		case t.low == "citing":
			add(i, words(ts, i+1, min(len(ts), i+6)))
			if len(out) > 0 && out[len(out)-1].at == i {
				out[len(out)-1].citing = true
			}
		case nominal[t.low] && i > 1 && ts[i-1].text == "'s":
			// "The Taliban's account — 58 soldiers dead —"
			from := i - 2
			for from > 0 && ts[from-1].text != "," && i-from < 6 {
				from--
			}
			add(i, words(ts, from, i-1))
		case reporting[t.low]:
			// The subject: the words before the verb back to a comma or
			// the clause's start; or, inverted ("…, said the ministry"),
			// the words after it.
			end := i
			if i > 0 && ts[i-1].text == "," {
				if i+1 < len(ts) && !afterSaid[ts[i+1].low] && t.low != "told" && !strings.HasSuffix(t.low, "ing") {
					end = -1 // "…, said the ministry": the subject follows
				} else {
					end = i - 1 // "Mujahid, the spokesman, said in …": the apposition
				}
			}
			who := ""
			if end >= 0 {
				from := end - 1
				for from >= 0 && ts[from].text != "," && !clauseBreaks[ts[from].low] && ts[from].low != "that" && end-from < 12 {
					from--
				}
				who = words(ts, from+1, end)
			}
			if strings.TrimSpace(who) == "" && i+1 < len(ts) {
				who = words(ts, i+1, min(len(ts), i+6))
			}
			add(i, who)
		}
	}
	// "The Times, citing a district official, reported …": the source is
	// the official, not the outlet that repeats it.
	return slices.DeleteFunc(out, func(a attribution) bool {
		return a.side == "" && !a.official && slices.ContainsFunc(out, func(b attribution) bool { return b.citing && b.clause == a.clause })
	})
}

// nominal are nouns that attribute what follows to their possessor: "the
// Taliban's account", "the army's figures".
var nominal = set("account", "version", "figures", "tally", "toll", "claim", "count")

// official reports whether a claimant is an office whose side is where
// it sits ("officials in Nangarhar").
func official(who string) bool {
	return containsAny(strings.ToLower(who), "official", "authorit", "governor", "spokesman", "spokesperson", "administration", "police", "commander", "ministr", "minister")
}

// containsAny reports whether s contains any of xs.
func containsAny(s string, xs ...string) bool {
	for _, x := range xs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// afterSaid are words that follow a reporting verb whose subject came
// before it ("said in a post", "said that", "said on Sunday").
var afterSaid = set("in", "on", "that", "at", "to", "by", "during", "late", "earlier", "later", "after", "before", ".", "it",
	"its")

func pronoun(who string) bool {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(who)), "the ") {
	case "it", "he", "she", "they", "statement", "spokesman", "it also", "he also", "officials",
		"official", "group", "minister", "source", "sources":
		return true
	}
	return false
}

func words(ts []token, from, to int) string {
	if from < to && (ts[from].low == "the" || ts[from].low == "a" || ts[from].low == "an") {
		from++
	}
	var b strings.Builder
	for i := from; i < to && i < len(ts); i++ {
		if ts[i].text == "," || ts[i].text == "." {
			break
		}
		if b.Len() > 0 && ts[i].text != "'s" {
			b.WriteByte(' ')
		}
		b.WriteString(ts[i].text)
	}
	return b.String()
}

// attributionOf is who gives the figure at token i: the attribution in
// its own clause (the nearest before it, else after it), else the
// sentence's last one.
func attributionOf(atts []attribution, i int) attribution {
	var best *attribution
	for k := range atts {
		a := &atts[k]
		if a.clause[0] <= i && i < a.clause[1] && (best == nil || a.at < i && (best.at > i || a.at > best.at)) {
			best = a
		}
	}
	if best != nil {
		return *best
	}
	if len(atts) > 0 {
		return atts[len(atts)-1]
	}
	return attribution{}
}

// claimantSide says whose voice a claimant's words are: PK, AF, other (a
// hospital, residents, the UN, a militant group), or "" if they name no
// one it can place.
func claimantSide(who string) string {
	w := " " + strings.ToLower(who) + " "
	has := func(xs ...string) bool { return containsAny(w, xs...) }
	switch {
	case has("hospital", "doctor", "medic", "medical", "resident", "relative", "famil", "uncle", "father", "mother", "brother", "elder",
		" un ", "unama", "united nations", "ttp", "tehreek", "faction", "rescue", "press", "think tank", "local sources",
		"witness", "villager", "human rights", "red cross", "icrc", "amnesty", "monitor"):
		return "other"
	case has("taliban", "afghan", "afghanistan", "kabul", "islamic emirate", "mujahid", "zabihullah", "rta ", "radio television afghanistan",
		"tolo", "bakhtar"):
		return "AF"
	case has("pakistan", "ispr", "inter-services", "islamabad", "rawalpindi", "ptv", "military's media wing", "media wing",
		"army", "military", "frontier corps", "information minister", "defence minister", "defense minister",
		"interior minister", "prime minister", "foreign office", "security officials", "security sources", "deputy commissioner",
		"district administration", "state television", "state media", "officer", "soldier"):
		return "PK"
	}
	return ""
}

// sideOfCasualty decides whose people a figure counts.
// g is its group; where gives the side the sentence's places lie on.
func sideOfCasualty(c casualty, g string, by attribution, ts []token, where func() string) string {
	np := joinLow(c.np)
	if n := nationality(np); n != "" {
		if n == "none" {
			return ""
		}
		return n
	}
	// What follows the status: "killed on the Afghan side" names the
	// side, "wounded by Taliban fire" the other.
	if c.stop > 0 {
		if s := sideAfter(ts, c.stop); s != "" {
			return s
		}
	}
	if g == "militants" {
		return ""
	}
	own := slices.ContainsFunc(c.np, func(t token) bool { return ownWord[t.low] })
	if own && (by.side == "PK" || by.side == "AF") {
		return by.side
	}
	if c.active {
		// Who did it: a named side's forces, or the claimant ("it had
		// killed"): those killed are the other side's.
		agent := nationality(joinLow(c.agent))
		if agent == "" && (by.side == "PK" || by.side == "AF") && mentionsSelf(c.agent) {
			agent = by.side
		}
		switch {
		case agent != "" && c.own:
			return agent
		case agent == "PK":
			return "AF"
		case agent == "AF":
			return "PK"
		}
		// Militants (the TTP, "its fighters" in its own claim) fight
		// Pakistan's forces.
		if agent == "" && (g == "soldiers" || g == "police") && (militantWords(joinLow(c.agent)) ||
			by.side == "other" && militantWords(strings.ToLower(by.text)) && mentionsSelf(c.agent)) {
			return "PK"
		}
	}
	if g == "police" {
		if s := where(); s != "" {
			return s
		}
		return "PK"
	}
	if s := where(); s != "" && by.side != "" && (by.side == "other" || g == "civilians" || g == "people") {
		return s
	}
	if g == "soldiers" && !strings.Contains(np, " men ") {
		return "PK" // Pakistan's forces are its soldiers; the Taliban's, fighters or forces
	}
	if by.side == "PK" || by.side == "AF" {
		return by.side
	}
	if by.side == "" && g != "civilians" && g != "police" {
		return "" // an outlet's own figure: a place alone does not say whose fighters or "people"
	}
	return where()
}

// nationality is the party words (lower case, tokens spaced) name,
// "none" for both, "" for neither.
func nationality(s string) string {
	s = " " + s + " "
	switch {
	case strings.Contains(s, " both sides"):
		return "none"
	case strings.Contains(s, "pakistani") || strings.Contains(s, "pakistan 's") || strings.Contains(s, "pakistanis") ||
		strings.Contains(s, " pakistan "):
		return "PK"
	case strings.Contains(s, "afghan") || strings.Contains(s, "taliban") || strings.Contains(s, "islamic emirate"):
		return "AF"
	}
	return ""
}

// sideAfter reads the words after a status: "on the Afghan side" and "in
// Afghanistan" name the side of those counted; "by Taliban fire" and "in
// Pakistani air strikes" name who did it, and so the other side.
func sideAfter(ts []token, i int) string {
	adjective := map[string]string{"pakistani": "PK", "afghan": "AF", "taliban": "AF"}
	country := map[string]string{"pakistan": "PK", "afghanistan": "AF"}
	other := map[string]string{"PK": "AF", "AF": "PK"}
	for k := i; k < len(ts) && k < i+10; k++ {
		w := ts[k].low
		if w == "," || w == ";" || w == "said" || w == "and" && k+1 < len(ts) && isDigitWord(ts[k+1].low) {
			return ""
		}
		if w == "side" && k >= 1 {
			if s := adjective[ts[k-1].low]; s != "" {
				return s
			}
		}
		if (w == "by" || w == "in" || w == "from") && k+1 < len(ts) {
			for m := k + 1; m < len(ts) && m <= k+3; m++ {
				if s := adjective[ts[m].low]; s != "" && !(m+1 < len(ts) && ts[m+1].low == "side") {
					return other[s]
				}
				if s := country[ts[m].low]; s != "" && w == "in" {
					return s
				}
			}
		}
	}
	return ""
}

func isDigitWord(w string) bool { _, ok := cardinal(w); return ok }

func militantWords(s string) bool {
	return containsAny(s, "militant", "ttp", "tehreek", "khawarij", "attacker", "bomber", "terrorist", "insurgent", "faction")
}

func mentionsSelf(agent []token) bool {
	for _, t := range agent {
		switch t.low {
		case "it", "its", "our", "we", "their", "they", "forces", "troops", "army", "military":
			return true
		}
	}
	return false
}

func joinLow(ts []token) string {
	var b strings.Builder
	for _, t := range ts {
		b.WriteString(t.low)
		b.WriteByte(' ')
	}
	return b.String()
}

// placeSide is the party on whose side of the border a sentence's places
// lie, if they all lie on one.
func placeSide(sentence string) string {
	side := ""
	for _, p := range gazetteer.Find(sentence) {
		s := map[string]string{"PK": "PK", "AF": "AF"}[p.Country]
		if s == "" {
			continue
		}
		if side != "" && side != s {
			return ""
		}
		side = s
	}
	return side
}

var monthAbbr = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}
