package actors

import (
	"fmt"
	"testing"
)

func TestFind(t *testing.T) {
	for text, want := range map[string]string{
		"The TTP claimed the attack, Pakistan's military media wing ISPR said, while Zabihullah Mujahid denied it.": "[Tehrik-i-Taliban Pakistan Pakistan Inter-Services Public Relations Zabihullah Mujahid]",
		"Talks mediated by Qatar and Türkiye resumed; the Afghan defence ministry gave its own figures.":            "[Qatar Türkiye Afghan ministry of defence]",
		"The talks were held under Turkish and Qatari mediation.":                                                   "[Türkiye Qatar]",
		"آئی ایس پی آر کے مطابق ٹی ٹی پی کے حملے میں پاکستان کے فوجی شہید ہوئے۔":                                    "[Inter-Services Public Relations Tehrik-i-Taliban Pakistan Pakistan]",
		"ذبیح‌الله مجاهد گفت که امارت اسلامی به توافق پایبند است.":                                                  "[Zabihullah Mujahid Afghan Taliban administration]",
		// Acronyms only in capitals, names only as whole words.
		"the bla bla of a stepmother; Pakistanis abroad": "[]",
	} {
		var got []string
		for _, a := range Find(text) {
			got = append(got, a.Name)
		}
		if fmt.Sprint(got) != want && !(want == "[]" && got == nil) {
			t.Errorf("%q: %v, want %s", text, got, want)
		}
	}
}

func FuzzFind(f *testing.F) {
	f.Add("ISPR said the TTP")
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range Find(s) {
			if a.Name == "" || a.Type == "" {
				t.Fatalf("%+v", a)
			}
		}
	})
}
