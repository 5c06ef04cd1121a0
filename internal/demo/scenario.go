package demo

import (
	"context"
	"sort"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
)

const day = 24 * time.Hour

// incident is one allegation of the exercise: when it happened (from the
// scenario's start), how long after it was filed, by whom, and what.
type incident struct {
	event   time.Duration
	filed   time.Duration // after the event
	by      string
	cat     string
	clauses []string
	perp    truce.Perpetrator
	place   truce.Place
	cas     truce.Casualties
	text    string
}

func party(code string) truce.Perpetrator {
	return truce.Perpetrator{Kind: truce.PerpParty, Party: code}
}

func group(name, from string) truce.Perpetrator {
	return truce.Perpetrator{Kind: truce.PerpNonState, Group: name, OperatedFrom: from}
}

// Coordinates are approximate; they place incidents at real border
// districts for the exercise map.
var incidents = []incident{
	{event: 1*day + 2*time.Hour, filed: 9 * time.Hour, by: "pk-liaison", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire"}, perp: party("AF"),
		place: truce.Place{Lat: 30.921, Lon: 66.460, GeoPrecision: 1, Country: "PK", Admin1: "Balochistan", Admin2: "Chaman", Location: "Chaman, near the Friendship Gate"},
		cas:   truce.Casualties{Killed: 1, Injured: 4, CiviliansInjured: 2},
		text:  "Mortar rounds fired from the Spin Boldak side landed near the Friendship Gate at Chaman at about 02:00; a border guard was killed and four people injured, two of them traders waiting to cross."},
	{event: 1*day + 5*time.Hour, filed: 14 * time.Hour, by: "af-liaison", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("PK"),
		place: truce.Place{Lat: 31.006, Lon: 66.399, GeoPrecision: 2, Country: "AF", Admin1: "Kandahar", Admin2: "Spin Boldak", Location: "Spin Boldak bazaar"},
		cas:   truce.Casualties{Killed: 3, Injured: 7, CiviliansKilled: 3, CiviliansInjured: 7},
		text:  "Artillery fire from Pakistani positions opposite Spin Boldak hit the edge of the bazaar in the early morning, killing three shopkeepers."},
	{event: 2*day + 22*time.Hour, filed: 20 * time.Hour, by: "af-liaison", cat: "air_drone_strike",
		clauses: []string{"no-air-strikes", "protect-civilians"}, perp: party("PK"),
		place: truce.Place{Lat: 32.783, Lon: 69.167, GeoPrecision: 2, Country: "AF", Admin1: "Paktika", Admin2: "Barmal", Location: "Barmal district"},
		cas:   truce.Casualties{Killed: 6, Injured: 3, CiviliansKilled: 4, CiviliansInjured: 3},
		text:  "A drone struck two houses in Barmal district after midnight; residents say women and children were among the dead."},
	{event: 3*day + 4*time.Hour, filed: 11 * time.Hour, by: "pk-liaison", cat: "cross_border_infiltration",
		clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
		place: truce.Place{Lat: 34.730, Lon: 71.520, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Bajaur", Location: "Bajaur, Salarzai heights"},
		cas:   truce.Casualties{Killed: 2, Injured: 5},
		text:  "A group of about 40 TTP fighters crossed from Kunar province into Bajaur and attacked a Frontier Corps post before withdrawing across the border."},
	{event: 4*day + 15*time.Hour, filed: 6 * time.Hour, by: "pk-liaison-2", cat: "armed_clash",
		clauses: []string{"no-cross-border-fire"}, perp: party("AF"),
		place: truce.Place{Lat: 33.899, Lon: 70.100, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Kurram", Location: "Kurram, near Parachinar"},
		cas:   truce.Casualties{Injured: 2},
		text:  "Afghan border forces opened small-arms fire on a Pakistani post in Kurram after a dispute over fencing; the exchange lasted forty minutes."},
	{event: 5*day + 23*time.Hour, filed: 26 * time.Hour, by: "af-liaison-2", cat: "air_drone_strike",
		clauses: []string{"no-air-strikes", "protect-civilians"}, perp: party("PK"),
		place: truce.Place{Lat: 33.340, Lon: 69.920, GeoPrecision: 1, Country: "AF", Admin1: "Khost", Admin2: "Khost", Location: "Khost city outskirts"},
		cas:   truce.Casualties{Killed: 2, Injured: 1, CiviliansKilled: 2, CiviliansInjured: 1},
		text:  "An aircraft struck a vehicle on the outskirts of Khost city; the two men killed were, according to their families, traders."},
	{event: 6*day + 3*time.Hour, filed: 10 * time.Hour, by: "pk-liaison", cat: "armed_clash",
		clauses: []string{"territory-not-used"}, perp: group("TTP (Hafiz Gul Bahadur faction)", "AF"),
		place: truce.Place{Lat: 32.996, Lon: 70.283, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "North Waziristan", Location: "Mir Ali"},
		cas:   truce.Casualties{Killed: 5, Injured: 8},
		text:  "Militants who had assembled in Khost province attacked a checkpost near Mir Ali; five soldiers were killed."},
	{event: 7*day + 6*time.Hour, filed: 8 * time.Hour, by: "af-liaison", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("PK"),
		place: truce.Place{Lat: 34.960, Lon: 71.420, GeoPrecision: 2, Country: "AF", Admin1: "Kunar", Admin2: "Dangam", Location: "Dangam district"},
		cas:   truce.Casualties{Killed: 1, Injured: 6, CiviliansKilled: 1, CiviliansInjured: 6},
		text:  "Shells fired from across the Durand Line fell on villages in Dangam district; a child was killed and six people were injured."},
	{event: 8*day + 9*time.Hour, filed: 30 * time.Hour, by: "monitor", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire"}, perp: truce.Perpetrator{Kind: truce.PerpUnknown},
		place: truce.Place{Lat: 32.320, Lon: 69.350, GeoPrecision: 2, RadiusKM: 5, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "South Waziristan", Location: "Angoor Adda"},
		text:  "Monitoring team heard and recorded about a dozen artillery impacts within 5 km of Angoor Adda between 09:00 and 10:30; the direction of fire could not be established."},
	{event: 9*day + 20*time.Hour, filed: 12 * time.Hour, by: "pk-liaison-2", cat: "remote_explosive",
		clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
		place: truce.Place{Lat: 31.342, Lon: 69.449, GeoPrecision: 2, Country: "PK", Admin1: "Balochistan", Admin2: "Zhob", Location: "Zhob–Sambaza road"},
		cas:   truce.Casualties{Killed: 3, Injured: 2},
		text:  "A roadside bomb hit a patrol on the Zhob–Sambaza road; the cell that placed it is said to have crossed from Paktika the previous night."},
	{event: 10*day + 14*time.Hour, filed: 7 * time.Hour, by: "af-liaison-2", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire"}, perp: party("PK"),
		place: truce.Place{Lat: 34.110, Lon: 71.070, GeoPrecision: 2, Country: "AF", Admin1: "Nangarhar", Admin2: "Mohmand Dara", Location: "Torkham, Afghan side"},
		cas:   truce.Casualties{Injured: 3, CiviliansInjured: 3},
		text:  "Mortar fire near the Torkham crossing injured three porters on the Afghan side; the crossing was closed for six hours."},
	{event: 11*day + 1*time.Hour, filed: 15 * time.Hour, by: "pk-liaison", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("AF"),
		place: truce.Place{Lat: 33.144, Lon: 69.842, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "North Waziristan", Location: "Ghulam Khan crossing"},
		cas:   truce.Casualties{Injured: 4, CiviliansInjured: 4},
		text:  "Rockets fired from the Afghan side landed by the Ghulam Khan customs yard, injuring four truck drivers."},
	{event: 12*day + 4*time.Hour, filed: 9 * time.Hour, by: "pk-liaison-2", cat: "cross_border_infiltration",
		clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
		place: truce.Place{Lat: 35.850, Lon: 71.790, GeoPrecision: 3, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Chitral", Location: "Chitral, Arandu sector"},
		text:  "About 25 armed men crossed from Nuristan into the Arandu sector of Chitral and were engaged by Chitral Scouts; they withdrew without casualties."},
	{event: 12*day + 21*time.Hour, filed: 10 * time.Hour, by: "af-liaison", cat: "armed_clash",
		clauses: []string{"no-cross-border-fire"}, perp: party("PK"),
		place: truce.Place{Lat: 34.425, Lon: 70.455, GeoPrecision: 3, Country: "AF", Admin1: "Nangarhar", Location: "Nangarhar, border posts east of Lalpur"},
		cas:   truce.Casualties{Killed: 1, Injured: 2},
		text:  "Pakistani forces fired on an Afghan border post east of Lalpur while it was being rebuilt; one border guard was killed."},
}

func (s *scenario) run(ctx context.Context) error {
	order := make([]int, len(incidents))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := incidents[order[a]], incidents[order[b]]
		return x.event+x.filed < y.event+y.filed
	})
	for _, i := range order {
		in := incidents[i]
		s.at(in.event + in.filed)
		_, err := s.submit(ctx, in.by, rules.KindAllegationFiled, truce.AllegationFiling{
			Category:    in.cat,
			Occurred:    truce.Occurred{From: s.start.Add(in.event), Precision: 1},
			Place:       in.place,
			Clauses:     in.clauses,
			Perpetrator: in.perp,
			Casualties:  in.cas,
			Narrative:   "[EXERCISE] " + in.text,
		})
		if err != nil {
			return err
		}
	}
	return nil
}
