package extract

import (
	"regexp"
	"strings"
)

// tokens are runs of word characters, as the article-extraction
// benchmark's \w+ (Unicode) finds them.
var tokens = regexp.MustCompile(`[\p{L}\p{N}_]+`)

// Score compares an extracted body with the expected one as the
// article-extraction benchmark does: the multisets of word 4-grams, true
// positives counted with multiplicity. It returns precision and recall;
// ok is false where a denominator is zero (the page is left out), except
// that a page with no errors at all scores 1 on both.
func Score(expected, got string) (precision, recall float64, pOK, rOK bool) {
	want, have := ngrams(expected), ngrams(got)
	var tp, fp, fn int
	for g, n := range have {
		m := want[g]
		tp += min(n, m)
		fp += max(0, n-m)
	}
	for g, m := range want {
		fn += max(0, m-have[g])
	}
	if tp+fp+fn == 0 {
		return 1, 1, true, true
	}
	if tp+fp > 0 {
		precision, pOK = float64(tp)/float64(tp+fp), true
	}
	if tp+fn > 0 {
		recall, rOK = float64(tp)/float64(tp+fn), true
	}
	return precision, recall, pOK, rOK
}

func ngrams(s string) map[string]int {
	t := tokens.FindAllString(s, -1)
	out := map[string]int{}
	for i := 0; i+4 <= len(t); i++ {
		out[strings.Join(t[i:i+4], "\x00")]++
	}
	return out
}
