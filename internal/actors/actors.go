// Package actors finds the parties, mediators, named armed groups and
// spokespeople an article names, by a list of their names and the other
// names the press uses for them.
package actors

import (
	"regexp"
	"slices"
	"strings"

	"github.com/truce-mvm/truce"
)

type actor struct {
	truce.ActorMention
	aliases []string
	re      *regexp.Regexp
}

// known is the list. Acronyms match in capitals only; other names in any
// case.
var known = compile([]actor{
	{truce.ActorMention{Name: "Pakistan", Type: "party", Party: "PK"}, []string{"Pakistan", "Pakistani government", "government of Pakistan", "پاکستان"}, nil},
	{truce.ActorMention{Name: "Afghan Taliban administration", Type: "party", Party: "AF"},
		[]string{"Afghan Taliban", "Taliban administration", "Taliban government", "Islamic Emirate", "Afghan interim government", "Kabul administration",
			"امارت اسلامی", "اسلامی امارت", "افغان طالبان"}, nil},
	{truce.ActorMention{Name: "Qatar", Type: "mediator", Party: "QA"}, []string{"Qatar", "Qatari", "قطر"}, nil},
	{truce.ActorMention{Name: "Türkiye", Type: "mediator", Party: "TR"}, []string{"Türkiye", "Turkiye", "Turkey", "Turkish", "ترکیه", "ترکی", "ترکیې"}, nil},
	{truce.ActorMention{Name: "Tehrik-i-Taliban Pakistan", Type: "armed_group"}, []string{"Tehrik-i-Taliban Pakistan", "Tehreek-e-Taliban Pakistan", "TTP", "Pakistani Taliban", "تحریک طالبان پاکستان", "ٹی ٹی پی"}, nil},
	{truce.ActorMention{Name: "Islamic State Khorasan Province", Type: "armed_group"}, []string{"Islamic State Khorasan", "ISKP", "IS-K", "ISIS-K", "داعش خراسان"}, nil},
	{truce.ActorMention{Name: "Balochistan Liberation Army", Type: "armed_group"}, []string{"Balochistan Liberation Army", "BLA"}, nil},
	{truce.ActorMention{Name: "Hafiz Gul Bahadur group", Type: "armed_group"}, []string{"Hafiz Gul Bahadur", "Gul Bahadur group"}, nil},
	{truce.ActorMention{Name: "Jamaat-ul-Ahrar", Type: "armed_group"}, []string{"Jamaat-ul-Ahrar", "Jamaat ul Ahrar"}, nil},
	{truce.ActorMention{Name: "Inter-Services Public Relations", Type: "spokesperson", Party: "PK"},
		[]string{"Inter-Services Public Relations", "ISPR", "Pakistani military's media wing", "Pakistan army spokesman", "Pakistani military spokesman", "آئی ایس پی آر"}, nil},
	{truce.ActorMention{Name: "Pakistani foreign ministry spokesperson", Type: "spokesperson", Party: "PK"},
		[]string{"Pakistani foreign ministry", "Pakistan's Foreign Office", "Foreign Office spokesperson", "Pakistani foreign office"}, nil},
	{truce.ActorMention{Name: "Zabihullah Mujahid", Type: "spokesperson", Party: "AF"}, []string{"Zabihullah Mujahid", "Taliban spokesman", "chief spokesman of the Islamic Emirate", "ذبیح اللہ مجاہد", "ذبیح‌الله مجاهد", "ذبیح الله مجاهد"}, nil},
	{truce.ActorMention{Name: "Afghan ministry of defence", Type: "spokesperson", Party: "AF"},
		[]string{"Afghan defence ministry", "Afghan defense ministry", "Afghan ministry of defence", "Afghan ministry of defense", "Ministry of National Defense",
			"وزارت دفاع ملی", "د ملي دفاع وزارت"}, nil},
})

func compile(list []actor) []actor {
	for i := range list {
		var alts []string
		for _, a := range list[i].aliases {
			q := regexp.QuoteMeta(a)
			if strings.ToUpper(a) != a {
				q = "(?i:" + q + ")"
			}
			alts = append(alts, q)
		}
		list[i].re = regexp.MustCompile(`(?:^|[^\pL\pN])(?:` + strings.Join(alts, "|") + `)(?:$|[^\pL\pN])`)
	}
	return list
}

// Find returns the actors text names, in the order first named.
func Find(text string) []truce.ActorMention {
	type hit struct {
		at int
		a  truce.ActorMention
	}
	var hits []hit
	for _, a := range known {
		if loc := a.re.FindStringIndex(text); loc != nil {
			hits = append(hits, hit{loc[0], a.ActorMention})
		}
	}
	slices.SortStableFunc(hits, func(x, y hit) int { return x.at - y.at })
	out := make([]truce.ActorMention, len(hits))
	for i, h := range hits {
		out[i] = h.a
	}
	return out
}
