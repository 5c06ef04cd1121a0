package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/ingest"
	"github.com/truce-mvm/truce/internal/rules"
)

const day = 24 * time.Hour

// incident is one allegation of the exercise: when it happened (from the
// scenario's start), how long after it was filed, by whom, and what.
type incident struct {
	key string
	// internal reports are for the mechanism only; sealed details stay out
	// of the log.
	internal bool
	sealed   string
	event    time.Duration
	filed    time.Duration // after the event
	by       string
	cat      string
	clauses  []string
	perp     truce.Perpetrator
	place    truce.Place
	cas      truce.Casualties
	text     string
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
	{key: "chaman", event: 1*day + 2*time.Hour, filed: 9 * time.Hour, by: "pk-liaison", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire"}, perp: party("AF"),
		place: truce.Place{Lat: 30.921, Lon: 66.460, GeoPrecision: 1, Country: "PK", Admin1: "Balochistan", Admin2: "Chaman", Location: "Chaman, near the Friendship Gate"},
		cas:   truce.Casualties{Killed: 1, Injured: 4, CiviliansInjured: 2},
		text:  "Mortar rounds fired from the Spin Boldak side landed near the Friendship Gate at Chaman at about 02:00; a border guard was killed and four people injured, two of them traders waiting to cross."},
	{key: "spin-boldak", event: 1*day + 5*time.Hour, filed: 14 * time.Hour, by: "af-liaison", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("PK"),
		place: truce.Place{Lat: 31.006, Lon: 66.399, GeoPrecision: 2, Country: "AF", Admin1: "Kandahar", Admin2: "Spin Boldak", Location: "Spin Boldak bazaar"},
		cas:   truce.Casualties{Killed: 3, Injured: 7, CiviliansKilled: 3, CiviliansInjured: 7},
		text:  "Artillery fire from Pakistani positions opposite Spin Boldak hit the edge of the bazaar in the early morning, killing three shopkeepers."},
	{key: "barmal", event: 2*day + 22*time.Hour, filed: 20 * time.Hour, by: "af-liaison", cat: "air_drone_strike",
		clauses: []string{"no-air-strikes", "protect-civilians"}, perp: party("PK"),
		place: truce.Place{Lat: 32.783, Lon: 69.167, GeoPrecision: 2, Country: "AF", Admin1: "Paktika", Admin2: "Barmal", Location: "Barmal district"},
		cas:   truce.Casualties{Killed: 6, Injured: 3, CiviliansKilled: 4, CiviliansInjured: 3},
		text:  "A drone struck two houses in Barmal district after midnight; residents say women and children were among the dead."},
	{key: "bajaur", event: 3*day + 4*time.Hour, filed: 11 * time.Hour, by: "pk-liaison", cat: "cross_border_infiltration",
		clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
		place: truce.Place{Lat: 34.730, Lon: 71.520, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Bajaur", Location: "Bajaur, Salarzai heights"},
		cas:   truce.Casualties{Killed: 2, Injured: 5},
		text:  "A group of about 40 TTP fighters crossed from Kunar province into Bajaur and attacked a Frontier Corps post before withdrawing across the border."},
	{key: "kurram", event: 4*day + 15*time.Hour, filed: 6 * time.Hour, by: "pk-liaison-2", cat: "armed_clash",
		clauses: []string{"no-cross-border-fire"}, perp: party("AF"),
		place: truce.Place{Lat: 33.899, Lon: 70.100, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Kurram", Location: "Kurram, near Parachinar"},
		cas:   truce.Casualties{Injured: 2},
		text:  "Afghan border forces opened small-arms fire on a Pakistani post in Kurram after a dispute over fencing; the exchange lasted forty minutes."},
	{key: "khost", event: 5*day + 23*time.Hour, filed: 26 * time.Hour, by: "af-liaison-2", cat: "air_drone_strike",
		clauses: []string{"no-air-strikes", "protect-civilians"}, perp: party("PK"),
		place: truce.Place{Lat: 33.340, Lon: 69.920, GeoPrecision: 1, Country: "AF", Admin1: "Khost", Admin2: "Khost", Location: "Khost city outskirts"},
		cas:   truce.Casualties{Killed: 2, Injured: 1, CiviliansKilled: 2, CiviliansInjured: 1},
		text:  "An aircraft struck a vehicle on the outskirts of Khost city; the two men killed were, according to their families, traders."},
	{key: "mir-ali", event: 6*day + 3*time.Hour, filed: 10 * time.Hour, by: "pk-liaison", cat: "armed_clash",
		clauses: []string{"territory-not-used"}, perp: group("TTP (Hafiz Gul Bahadur faction)", "AF"),
		place: truce.Place{Lat: 32.996, Lon: 70.283, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "North Waziristan", Location: "Mir Ali"},
		cas:   truce.Casualties{Killed: 5, Injured: 8},
		text:  "Militants who had assembled in Khost province attacked a checkpost near Mir Ali; five soldiers were killed."},
	{key: "dangam", event: 7*day + 6*time.Hour, filed: 8 * time.Hour, by: "af-liaison", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("PK"),
		place: truce.Place{Lat: 34.960, Lon: 71.420, GeoPrecision: 2, Country: "AF", Admin1: "Kunar", Admin2: "Dangam", Location: "Dangam district"},
		cas:   truce.Casualties{Killed: 1, Injured: 6, CiviliansKilled: 1, CiviliansInjured: 6},
		text:  "Shells fired from across the Durand Line fell on villages in Dangam district; a child was killed and six people were injured."},
	{key: "angoor-adda", internal: true, sealed: `{"observation_post":"OP-7 above Angoor Adda, grid 42S VB 1234 5678","team":["Monitor A","Monitor B"]}`, event: 8*day + 9*time.Hour, filed: 30 * time.Hour, by: "monitor", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire"}, perp: truce.Perpetrator{Kind: truce.PerpUnknown},
		place: truce.Place{Lat: 32.320, Lon: 69.350, GeoPrecision: 2, RadiusKM: 5, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "South Waziristan", Location: "Angoor Adda"},
		text:  "Monitoring team heard and recorded about a dozen artillery impacts within 5 km of Angoor Adda between 09:00 and 10:30; the direction of fire could not be established."},
	{key: "zhob", event: 9*day + 20*time.Hour, filed: 12 * time.Hour, by: "pk-liaison-2", cat: "remote_explosive",
		clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
		place: truce.Place{Lat: 31.342, Lon: 69.449, GeoPrecision: 2, Country: "PK", Admin1: "Balochistan", Admin2: "Zhob", Location: "Zhob–Sambaza road"},
		cas:   truce.Casualties{Killed: 3, Injured: 2},
		text:  "A roadside bomb hit a patrol on the Zhob–Sambaza road; the cell that placed it is said to have crossed from Paktika the previous night."},
	{key: "torkham", event: 10*day + 14*time.Hour, filed: 7 * time.Hour, by: "af-liaison-2", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire"}, perp: party("PK"),
		place: truce.Place{Lat: 34.110, Lon: 71.070, GeoPrecision: 2, Country: "AF", Admin1: "Nangarhar", Admin2: "Mohmand Dara", Location: "Torkham, Afghan side"},
		cas:   truce.Casualties{Injured: 3, CiviliansInjured: 3},
		text:  "Mortar fire near the Torkham crossing injured three porters on the Afghan side; the crossing was closed for six hours."},
	{key: "ghulam-khan", event: 11*day + 1*time.Hour, filed: 15 * time.Hour, by: "pk-liaison", cat: "shelling_artillery_missile",
		clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("AF"),
		place: truce.Place{Lat: 33.144, Lon: 69.842, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "North Waziristan", Location: "Ghulam Khan crossing"},
		cas:   truce.Casualties{Injured: 4, CiviliansInjured: 4},
		text:  "Rockets fired from the Afghan side landed by the Ghulam Khan customs yard, injuring four truck drivers."},
	{key: "chitral", event: 12*day + 4*time.Hour, filed: 9 * time.Hour, by: "pk-liaison-2", cat: "cross_border_infiltration",
		clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
		place: truce.Place{Lat: 35.850, Lon: 71.790, GeoPrecision: 3, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Chitral", Location: "Chitral, Arandu sector"},
		text:  "About 25 armed men crossed from Nuristan into the Arandu sector of Chitral and were engaged by Chitral Scouts; they withdrew without casualties."},
	{key: "lalpur", event: 12*day + 21*time.Hour, filed: 10 * time.Hour, by: "af-liaison", cat: "armed_clash",
		clauses: []string{"no-cross-border-fire"}, perp: party("PK"),
		place: truce.Place{Lat: 34.425, Lon: 70.455, GeoPrecision: 3, Country: "AF", Admin1: "Nangarhar", Location: "Nangarhar, border posts east of Lalpur"},
		cas:   truce.Casualties{Killed: 1, Injured: 2},
		text:  "Pakistani forces fired on an Afghan border post east of Lalpur while it was being rebuilt; one border guard was killed."},
}

func init() {
	incidents = append(incidents, []incident{
		{key: "spin-boldak-dup", event: 1*day + 5*time.Hour, filed: 40 * time.Hour, by: "af-liaison-2", cat: "shelling_artillery_missile",
			clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("PK"),
			place: truce.Place{Lat: 31.004, Lon: 66.401, GeoPrecision: 2, Country: "AF", Admin1: "Kandahar", Admin2: "Spin Boldak", Location: "Spin Boldak"},
			cas:   truce.Casualties{Killed: 3, Injured: 6, CiviliansKilled: 3, CiviliansInjured: 6},
			text:  "Pakistani artillery shelled the market area of Spin Boldak at dawn; three civilians died."},
		{key: "peshawar-protest", event: 2*day + 10*time.Hour, filed: 5 * time.Hour, by: "pk-liaison", cat: "peaceful_protest",
			clauses: []string{"protect-civilians"}, perp: truce.Perpetrator{Kind: truce.PerpUnknown},
			place: truce.Place{Lat: 34.008, Lon: 71.578, GeoPrecision: 1, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Peshawar", Location: "Peshawar, outside the Afghan consulate"},
			text:  "Several hundred Afghan nationals demonstrated outside the consulate in Peshawar against the closure of the crossings."},
		{key: "nawa-pass", event: 2*day + 13*time.Hour, filed: 8 * time.Hour, by: "pk-liaison", cat: "shelling_artillery_missile",
			clauses: []string{"no-cross-border-fire"}, perp: party("AF"),
			place: truce.Place{Lat: 34.620, Lon: 71.300, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Bajaur", Location: "Nawa Pass"},
			cas:   truce.Casualties{Injured: 1},
			text:  "Three mortar rounds from the Kunar side hit a Frontier Corps picket at Nawa Pass."},
		{key: "shkin", event: 3*day + 12*time.Hour, filed: 7 * time.Hour, by: "af-liaison", cat: "shelling_artillery_missile",
			clauses: []string{"no-cross-border-fire"}, perp: party("PK"),
			place: truce.Place{Lat: 32.630, Lon: 69.330, GeoPrecision: 2, Country: "AF", Admin1: "Paktika", Admin2: "Barmal", Location: "Shkin"},
			text:  "Pakistani posts fired artillery towards Shkin for an hour; no casualties were reported."},
		{key: "wana", event: 4*day + 1*time.Hour, filed: 9 * time.Hour, by: "pk-liaison-2", cat: "armed_clash",
			clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
			place: truce.Place{Lat: 32.300, Lon: 69.570, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "South Waziristan", Location: "Wana"},
			cas:   truce.Casualties{Killed: 2, Injured: 3},
			text:  "TTP fighters who had come across from Paktika ambushed a convoy near Wana."},
		{key: "asadabad", event: 4*day + 12*time.Hour, filed: 10 * time.Hour, by: "af-liaison-2", cat: "air_drone_strike",
			clauses: []string{"no-air-strikes"}, perp: party("PK"),
			place: truce.Place{Lat: 34.870, Lon: 71.150, GeoPrecision: 2, Country: "AF", Admin1: "Kunar", Admin2: "Asadabad", Location: "Asadabad"},
			text:  "A Pakistani drone was seen and heard over Asadabad for two hours; it fired no weapon."},
		{key: "chaman-2", event: 5*day + 5*time.Hour, filed: 6 * time.Hour, by: "pk-liaison", cat: "armed_clash",
			clauses: []string{"no-cross-border-fire"}, perp: party("AF"),
			place: truce.Place{Lat: 30.925, Lon: 66.455, GeoPrecision: 1, Country: "PK", Admin1: "Balochistan", Admin2: "Chaman", Location: "Chaman, border fence"},
			cas:   truce.Casualties{Injured: 1},
			text:  "Sniper fire from the Afghan side wounded a soldier repairing the border fence at Chaman."},
		{key: "goshta", event: 5*day + 12*time.Hour, filed: 8 * time.Hour, by: "af-liaison", cat: "shelling_artillery_missile",
			clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("PK"),
			place: truce.Place{Lat: 34.300, Lon: 71.100, GeoPrecision: 2, Country: "AF", Admin1: "Nangarhar", Admin2: "Goshta", Location: "Goshta district"},
			cas:   truce.Casualties{Injured: 2, CiviliansInjured: 2},
			text:  "Shelling from the Pakistani side injured two farmers in Goshta district."},
		{key: "jalalabad-overflight", event: 6*day + 2*time.Hour, filed: 9 * time.Hour, by: "af-liaison-2", cat: "air_drone_strike",
			clauses: []string{"no-air-strikes"}, perp: party("PK"),
			place: truce.Place{Lat: 34.430, Lon: 70.450, GeoPrecision: 3, Country: "AF", Admin1: "Nangarhar", Location: "Jalalabad"},
			text:  "Residents of Jalalabad reported Pakistani jets overhead at night."},
		{key: "mohmand", event: 6*day + 18*time.Hour, filed: 8 * time.Hour, by: "pk-liaison-2", cat: "cross_border_infiltration",
			clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
			place: truce.Place{Lat: 34.530, Lon: 71.340, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Mohmand", Location: "Mohmand, Baizai sector"},
			text:  "A group of about 30 militants crossed into Mohmand from Kunar and was pushed back after a firefight."},
		{key: "tani", event: 7*day + 14*time.Hour, filed: 11 * time.Hour, by: "af-liaison-2", cat: "air_drone_strike",
			clauses: []string{"no-air-strikes", "protect-civilians"}, perp: party("PK"),
			place: truce.Place{Lat: 33.200, Lon: 69.800, GeoPrecision: 2, Country: "AF", Admin1: "Khost", Admin2: "Tani", Location: "Tani district"},
			cas:   truce.Casualties{Killed: 1, CiviliansKilled: 1},
			text:  "A drone strike on a house in Tani district killed one man."},
		{key: "kurram-2", event: 8*day + 7*time.Hour, filed: 6 * time.Hour, by: "pk-liaison", cat: "shelling_artillery_missile",
			clauses: []string{"no-cross-border-fire"}, perp: party("AF"),
			place: truce.Place{Lat: 33.950, Lon: 70.050, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Kurram", Location: "Kharlachi"},
			cas:   truce.Casualties{Injured: 2},
			text:  "Mortar fire from the Afghan side hit the Kharlachi crossing area."},
		{key: "barmal-2", event: 8*day + 20*time.Hour, filed: 9 * time.Hour, by: "af-liaison", cat: "air_drone_strike",
			clauses: []string{"no-air-strikes", "protect-civilians"}, perp: party("PK"),
			place: truce.Place{Lat: 32.790, Lon: 69.160, GeoPrecision: 2, Country: "AF", Admin1: "Paktika", Admin2: "Barmal", Location: "Barmal, Margha"},
			cas:   truce.Casualties{Killed: 2, Injured: 2, CiviliansKilled: 2, CiviliansInjured: 2},
			text:  "A second drone strike in Barmal district hit a vehicle near Margha."},
		{key: "datta-khel", event: 9*day + 5*time.Hour, filed: 7 * time.Hour, by: "pk-liaison-2", cat: "armed_clash",
			clauses: []string{"territory-not-used"}, perp: group("TTP (Hafiz Gul Bahadur faction)", "AF"),
			place: truce.Place{Lat: 32.980, Lon: 69.950, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "North Waziristan", Location: "Datta Khel"},
			cas:   truce.Casualties{Killed: 1, Injured: 4},
			text:  "Militants based across the border in Khost attacked a post at Datta Khel."},
		{key: "spin-boldak-2", event: 9*day + 12*time.Hour, filed: 8 * time.Hour, by: "af-liaison-2", cat: "shelling_artillery_missile",
			clauses: []string{"no-cross-border-fire"}, perp: party("PK"),
			place: truce.Place{Lat: 31.010, Lon: 66.390, GeoPrecision: 2, Country: "AF", Admin1: "Kandahar", Admin2: "Spin Boldak", Location: "Spin Boldak, Wesh"},
			cas:   truce.Casualties{Injured: 3},
			text:  "Artillery fire from Pakistani positions hit Wesh, near the Spin Boldak crossing."},
		{key: "badini", event: 10*day + 3*time.Hour, filed: 20 * time.Hour, by: "monitor", cat: "armed_clash",
			clauses: []string{"no-cross-border-fire"}, perp: truce.Perpetrator{Kind: truce.PerpUnknown},
			place: truce.Place{Lat: 30.800, Lon: 68.200, GeoPrecision: 2, RadiusKM: 3, Country: "PK", Admin1: "Balochistan", Location: "Badini crossing"},
			text:  "The monitoring team recorded twenty minutes of small-arms fire on both sides of the Badini crossing."},
		{key: "dangam-2", event: 11*day + 9*time.Hour, filed: 7 * time.Hour, by: "af-liaison", cat: "shelling_artillery_missile",
			clauses: []string{"no-cross-border-fire", "protect-civilians"}, perp: party("PK"),
			place: truce.Place{Lat: 34.970, Lon: 71.410, GeoPrecision: 2, Country: "AF", Admin1: "Kunar", Admin2: "Dangam", Location: "Dangam"},
			cas:   truce.Casualties{Injured: 2, CiviliansInjured: 2},
			text:  "Shelling hit Dangam district again; two women were injured."},
		{key: "torkham-2", event: 11*day + 19*time.Hour, filed: 6 * time.Hour, by: "pk-liaison", cat: "armed_clash",
			clauses: []string{"no-cross-border-fire"}, perp: party("AF"),
			place: truce.Place{Lat: 34.100, Lon: 71.095, GeoPrecision: 1, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Khyber", Location: "Torkham"},
			text:  "Afghan border forces fired on a Pakistani post at Torkham after a dispute over a new gate."},
		{key: "bajaur-2", event: 12*day + 15*time.Hour, filed: 8 * time.Hour, by: "pk-liaison-2", cat: "cross_border_infiltration",
			clauses: []string{"territory-not-used"}, perp: group("TTP", "AF"),
			place: truce.Place{Lat: 34.740, Lon: 71.500, GeoPrecision: 2, Country: "PK", Admin1: "Khyber Pakhtunkhwa", Admin2: "Bajaur", Location: "Bajaur, Mamund"},
			cas:   truce.Casualties{Killed: 1, Injured: 2},
			text:  "Militants crossed from Kunar into Mamund tehsil and attacked a levies post."},
	}...)
}

// event is one step of the scenario: at a time after the start, a member
// signs a kind of entry. If key is set, the id of the record the entry
// created is kept under it, for later steps to refer to.
type event struct {
	at   time.Duration
	by   string
	kind string
	key  string
	body func(sc *scenario) any
}

// id returns the record id kept under key; a step that refers to a
// record no earlier step made is an error of the scenario.
func (s *scenario) id(key string) string {
	id, ok := s.ids[key]
	if !ok && s.err == nil {
		s.err = fmt.Errorf("demo scenario: no record %q yet", key)
	}
	return id
}

// workflow is the fortnight's work on the allegations, day by day (d is a
// day after the start).
func workflow() []event {
	d := func(days float64) time.Duration { return time.Duration(days * float64(day)) }
	reply := func(at float64, by, al, response, third, text string) event {
		return event{at: d(at), by: by, kind: rules.KindReplyFiled, body: func(s *scenario) any {
			return truce.Reply{Allegation: s.id("al:" + al), Response: response, ThirdParty: third, Narrative: text}
		}}
	}
	admit := func(at float64, by, al string) event {
		return event{at: d(at), by: by, kind: rules.KindAllegationAdmitted, body: func(s *scenario) any {
			return truce.Admission{Allegation: s.id("al:" + al), Note: "Within the mechanism's scope; to be verified."}
		}}
	}
	reject := func(at float64, by, al, grounds, dup, note string) event {
		return event{at: d(at), by: by, kind: rules.KindAllegationRejected, body: func(s *scenario) any {
			r := truce.Rejection{Allegation: s.id("al:" + al), Grounds: grounds, Note: note}
			if dup != "" {
				r.DuplicateOf = s.id("al:" + dup)
			}
			return r
		}}
	}
	openCase := func(at float64, by, al, title string) event {
		return event{at: d(at), by: by, kind: rules.KindCaseOpened, key: "case:" + al, body: func(s *scenario) any {
			return truce.CaseOpening{Allegation: s.id("al:" + al), Title: title}
		}}
	}
	task := func(at float64, key, al, typ, who string, dueIn float64, text string) event {
		return event{at: d(at), by: "tr-mediator", kind: rules.KindTaskAssigned, key: "task:" + key, body: func(s *scenario) any {
			return truce.TaskAssignment{Case: s.id("case:" + al), Type: typ, Assignee: who, Due: s.start.Add(d(at + dueIn)), Description: text}
		}}
	}
	done := func(at float64, key, who, result string, evidence ...string) event {
		return event{at: d(at), by: who, kind: rules.KindTaskCompleted, body: func(s *scenario) any {
			var ev []string
			for _, e := range evidence {
				ev = append(ev, s.id("ev:"+e))
			}
			return truce.TaskResult{Task: s.id("task:" + key), Result: result, Evidence: ev}
		}}
	}
	evidence := func(at float64, key, al, who, media, text string, place truce.Place) event {
		return event{at: d(at), by: who, kind: rules.KindEvidenceRegistered, key: "ev:" + key, body: func(s *scenario) any {
			sum := sha256.Sum256([]byte("EXERCISE evidence " + key))
			return truce.EvidenceRegistration{SHA256: hex.EncodeToString(sum[:]), MediaType: media, Size: 2_400_000,
				CapturedBy: s.memberName(who), CapturedAt: s.start.Add(d(at - 0.1)), Place: &place, Description: "[EXERCISE] " + text, Case: s.id("case:" + al)}
		}}
	}
	custody := func(at float64, key, who, action, to, note string) event {
		return event{at: d(at), by: who, kind: rules.KindEvidenceCustody, body: func(s *scenario) any {
			return truce.CustodyEvent{Evidence: s.id("ev:" + key), Action: action, To: to, Note: note}
		}}
	}
	propose := func(at float64, by, key, al string, f truce.FindingProposal) event {
		return event{at: d(at), by: by, kind: rules.KindFindingProposed, key: "fd:" + key, body: func(s *scenario) any {
			f.Case = s.id("case:" + al)
			return f
		}}
	}
	sign := func(at float64, by, key string, concur bool, note string) event {
		return event{at: d(at), by: by, kind: rules.KindFindingSigned, body: func(s *scenario) any {
			return truce.FindingSignature{Finding: s.id("fd:" + key), Concur: concur, Note: note}
		}}
	}
	decide := func(at float64, kind, key, rule, note string) event {
		return event{at: d(at), by: "qa-mediator", kind: kind, body: func(s *scenario) any {
			return truce.ConsequenceDecision{Consequence: s.id("cq:" + key + ":" + rule), Note: note}
		}}
	}
	commitment := func(at float64, id, note string) event {
		return event{at: d(at), by: "admin", kind: rules.KindCommitmentUpdated, body: func(s *scenario) any {
			return truce.CommitmentUpdate{Commitment: id, Status: truce.CommitmentDone, Note: note}
		}}
	}
	chaman := truce.Place{Lat: 30.921, Lon: 66.460, GeoPrecision: 1, Country: "PK", Admin1: "Balochistan", Location: "Chaman"}
	barmal := truce.Place{Lat: 32.783, Lon: 69.167, GeoPrecision: 2, Country: "AF", Admin1: "Paktika", Location: "Barmal"}
	return []event{
		commitment(0.5, "orders-pk", "Standing orders issued to Frontier Corps and army units on the western border (copy lodged with the mechanism)."),
		commitment(0.8, "orders-af", "Standing orders issued by the Ministry of Defence to border forces (copy lodged with the mechanism)."),

		// Chaman: a confirmed violation by AF; the notice goes unanswered and escalates.
		reply(1.9, "af-liaison", "chaman", truce.ReplyDeny, "", "Afghan forces did not fire. The rounds came from positions we do not control."),
		admit(2.2, "tr-mediator", "chaman"),
		openCase(2.3, "tr-mediator", "chaman", "Mortar impacts at the Chaman Friendship Gate"),
		task(2.35, "chaman-site", "chaman", truce.TaskSiteVisit, "monitor", 2, "Visit the impact sites at the Friendship Gate; record craters, fragments and bearings."),
		evidence(3.6, "chaman-craters", "chaman", "monitor", "image/jpeg", "Photographs of three craters and tail fins, with compass bearings.", chaman),
		custody(3.7, "chaman-craters", "monitor", "transferred", "tr-mediator", "Memory card handed over sealed at the mechanism office in Quetta."),
		done(3.8, "chaman-site", "monitor", "Three 82 mm mortar impacts; fragment patterns and tail fins give a bearing of 290-300°, towards the Afghan posts west of Spin Boldak.", "chaman-craters"),
		propose(4.5, "tr-mediator", "chaman", "chaman", truce.FindingProposal{Determination: truce.DeterminationViolation, Responsible: "AF",
			Clauses: []string{"no-cross-border-fire"}, Severity: truce.SeveritySerious, Confidence: "high",
			Reasoning: "[EXERCISE] The craters, the fragments and their bearing establish fire from Afghan positions; no other party held positions on that bearing."}),
		sign(4.6, "tr-mediator", "chaman", true, ""),
		sign(5.0, "qa-mediator", "chaman", true, ""),
		{at: d(5.5), by: "af-liaison", kind: rules.KindFindingObjected, body: func(s *scenario) any {
			return truce.FindingObjection{Finding: s.id("fd:chaman"), Grounds: "The bearing also covers ground held by armed smugglers; the finding ignores them."}
		}},

		// Spin Boldak, and its duplicate.
		reply(2.5, "pk-liaison", "spin-boldak", truce.ReplyContest, "", "Pakistani artillery answered fire from the Afghan side; the rounds fell on military positions, not the bazaar."),
		admit(2.4, "qa-mediator", "spin-boldak"),
		reject(3.1, "qa-mediator", "spin-boldak-dup", truce.RejectDuplicate, "spin-boldak", ""),
		openCase(2.7, "qa-mediator", "spin-boldak", "Artillery fire on Spin Boldak bazaar"),
		task(2.75, "spin-boldak-interviews", "spin-boldak", truce.TaskInterviews, "monitor", 3, "Interview shopkeepers, the district hospital and the border police."),
		done(4.8, "spin-boldak-interviews", "monitor", "Eleven witnesses and hospital records agree: shells fell on the bazaar's edge; the three dead were shopkeepers."),
		reject(3.0, "tr-mediator", "peshawar-protest", truce.RejectOutOfScope, "", "A demonstration in Peshawar is not an act of either party's forces; outside the agreement."),

		// Barmal: a grave violation by PK; emergency session held; the notice waived.
		reply(4.0, "pk-liaison", "barmal", truce.ReplyDecline, "", ""),
		admit(3.8, "qa-mediator", "barmal"),
		openCase(3.85, "qa-mediator", "barmal", "Drone strike on houses in Barmal"),
		task(3.9, "barmal-imagery", "barmal", truce.TaskImageryReview, "analyst", 2.5, "Review commercial satellite imagery of Barmal before and after the strike."),
		evidence(5.3, "barmal-imagery", "barmal", "analyst", "image/tiff", "Before-and-after satellite images of two destroyed houses.", barmal),
		done(5.5, "barmal-imagery", "analyst", "Imagery shows two houses destroyed between the 2nd and 3rd; the pattern matches a precision munition.", "barmal-imagery"),
		propose(6.0, "qa-mediator", "barmal", "barmal", truce.FindingProposal{Determination: truce.DeterminationViolation, Responsible: "PK",
			Clauses: []string{"no-air-strikes", "protect-civilians"}, Severity: truce.SeverityGrave, Confidence: "medium",
			Reasoning: "[EXERCISE] Only Pakistan operates armed drones in the area; imagery and witness accounts establish the strike and civilian deaths."}),
		sign(6.1, "qa-mediator", "barmal", true, ""),
		sign(6.3, "tr-mediator", "barmal", true, ""),
		decide(7.5, rules.KindConsequenceFulfilled, "barmal", "emergency-session", "Joint session held in Doha with both parties and the mediators."),
		decide(10.0, rules.KindConsequenceWaived, "barmal", "formal-notice", "Pakistan acknowledged the finding at the emergency session and undertook to suspend drone flights near the border; a separate notice adds nothing."),

		// Spin Boldak finding: PK's second violation.
		propose(6.8, "qa-mediator", "spin-boldak", "spin-boldak", truce.FindingProposal{Determination: truce.DeterminationViolation, Responsible: "PK",
			Clauses: []string{"no-cross-border-fire", "protect-civilians"}, Severity: truce.SeveritySerious, Confidence: "high",
			Reasoning: "[EXERCISE] Witnesses and the hospital records establish artillery fire from Pakistani positions onto the bazaar; no prior Afghan fire was found."}),
		sign(6.9, "qa-mediator", "spin-boldak", true, ""),
		sign(7.0, "tr-mediator", "spin-boldak", true, ""),

		// Bajaur: TTP from Kunar; Afghanistan failed to prevent it.
		reply(4.5, "af-liaison", "bajaur", truce.ReplyDeny, "", "No group crossed from Kunar. The TTP is Pakistan's internal matter."),
		admit(4.0, "tr-mediator", "bajaur"),
		openCase(4.1, "tr-mediator", "bajaur", "TTP attack on a Frontier Corps post in Bajaur"),
		task(4.15, "bajaur-sources", "bajaur", truce.TaskSourceReview, "analyst", 3, "Review open-source reporting and claims of responsibility."),
		task(4.2, "bajaur-site", "bajaur", truce.TaskSiteVisit, "monitor", 3, "Visit the post and the approach routes from the border."),
		{at: d(5.9), by: "analyst", kind: rules.KindEvidenceRegistered, key: "ev:bajaur-source", body: func(s *scenario) any {
			sum := sha256.Sum256([]byte("EXERCISE evidence bajaur-source"))
			return truce.EvidenceRegistration{SHA256: hex.EncodeToString(sum[:]), MediaType: "audio/ogg", Size: 1_200_000,
				CapturedAt: s.start.Add(d(5.5)), Description: "[EXERCISE] Recorded account of a resident who saw the fighters cross back.",
				Case: s.id("case:bajaur"), Sealed: s.seal(`{"source":"a resident of Salarzai (protected)","contact":"through the Peshawar office"}`)}
		}},
		done(6.0, "bajaur-sources", "analyst", "The TTP claimed the attack the same day; two outlets reported the fighters' return across the border; a protected source confirms it."),
		done(6.5, "bajaur-site", "monitor", "Tracks of a large group lead to and from the border crossing points above Salarzai."),
		propose(7.5, "tr-mediator", "bajaur", "bajaur", truce.FindingProposal{Determination: truce.DeterminationNonParty, Group: "TTP", Responsible: "AF",
			HostResponsibility: truce.HostFailedToPrevent, Clauses: []string{"territory-not-used"}, Severity: truce.SeveritySerious, Confidence: "medium",
			Reasoning: "[EXERCISE] The attackers came from and returned to Kunar; a group of forty moving openly could not have gone unnoticed by the authorities there."}),
		sign(7.6, "tr-mediator", "bajaur", true, ""),
		sign(7.8, "qa-mediator", "bajaur", true, ""),

		// Kurram: no violation.
		reply(5.5, "af-liaison", "kurram", truce.ReplyContest, "", "Our post returned fire after shots from the Pakistani side during fencing."),
		admit(5.4, "qa-mediator", "kurram"),
		openCase(5.6, "qa-mediator", "kurram", "Exchange of fire at a Kurram post"),
		task(5.65, "kurram-site", "kurram", truce.TaskSiteVisit, "monitor", 2, "Visit both posts; interview the commanders."),
		done(7.2, "kurram-site", "monitor", "The shots came from a Pakistani range practice 2 km inside Pakistan; no rounds crossed and the Afghan post did not fire."),
		propose(8.0, "qa-mediator", "kurram", "kurram", truce.FindingProposal{Determination: truce.DeterminationNoViolation, Confidence: "high",
			Reasoning: "[EXERCISE] The reported exchange was a range practice wholly within Pakistan; neither side fired across the border."}),
		sign(8.1, "qa-mediator", "kurram", true, ""),
		sign(8.2, "tr-mediator", "kurram", true, ""),

		// Khost: not confirmed; no reply from PK (its reply falls overdue).
		admit(7.1, "tr-mediator", "khost"),
		openCase(7.15, "tr-mediator", "khost", "Air strike on a vehicle near Khost city"),
		task(7.2, "khost-imagery", "khost", truce.TaskImageryReview, "analyst", 2, "Look for imagery of the strike site."),
		done(8.9, "khost-imagery", "analyst", "No imagery covers the site on that day; the vehicle had been removed before the team could visit."),
		propose(10.0, "tr-mediator", "khost", "khost", truce.FindingProposal{Determination: truce.DeterminationNotConfirmed, Confidence: "low",
			Reasoning: "[EXERCISE] A strike probably took place, but nothing available establishes who carried it out."}),
		sign(10.1, "tr-mediator", "khost", true, ""),
		sign(10.2, "qa-mediator", "khost", true, ""),

		// Mir Ali: a dissent defeats the first proposal; the second is adopted.
		reply(6.9, "af-liaison", "mir-ali", truce.ReplyAttribute, "criminal smuggling networks", "The attackers were smugglers, not a group operating from Khost."),
		admit(7.2, "qa-mediator", "mir-ali"),
		openCase(7.3, "qa-mediator", "mir-ali", "Attack on a checkpost near Mir Ali"),
		propose(9.5, "tr-mediator", "mir-ali", "mir-ali", truce.FindingProposal{Determination: truce.DeterminationNonParty, Group: "TTP (Hafiz Gul Bahadur faction)", Responsible: "AF",
			HostResponsibility: truce.HostFailedToPrevent, Clauses: []string{"territory-not-used"}, Severity: truce.SeveritySerious, Confidence: "low",
			Reasoning: "[EXERCISE] The faction claimed the attack; its fighters are reported to shelter in Khost."}),
		sign(9.6, "tr-mediator", "mir-ali", true, ""),
		sign(9.7, "qa-mediator", "mir-ali", false, "Nothing before the mechanism places the attackers in Khost before the attack; the host's responsibility is not established."),
		propose(10.5, "qa-mediator", "mir-ali-2", "mir-ali", truce.FindingProposal{Determination: truce.DeterminationNonParty, Group: "TTP (Hafiz Gul Bahadur faction)",
			HostResponsibility: truce.HostUndetermined, Clauses: []string{"territory-not-used"}, Severity: truce.SeveritySerious, Confidence: "medium",
			Reasoning: "[EXERCISE] The faction carried out the attack; where it set out from is not established."}),
		sign(10.6, "qa-mediator", "mir-ali-2", true, ""),
		sign(10.7, "tr-mediator", "mir-ali-2", true, ""),

		// Dangam: PK admits; its third violation in 30 days goes to the guarantors.
		reply(7.8, "pk-liaison", "dangam", truce.ReplyAdmit, "", "A round fell short while our post answered fire; we regret the death of the child."),
		admit(8.0, "tr-mediator", "dangam"),
		openCase(8.1, "tr-mediator", "dangam", "Shelling of villages in Dangam"),
		propose(9.0, "tr-mediator", "dangam", "dangam", truce.FindingProposal{Determination: truce.DeterminationViolation, Responsible: "PK",
			Clauses: []string{"no-cross-border-fire", "protect-civilians"}, Severity: truce.SeverityMinor, Confidence: "high",
			Reasoning: "[EXERCISE] Pakistan admits the round; the mechanism found no prior fire from the Afghan side."}),
		sign(9.1, "tr-mediator", "dangam", true, ""),
		sign(9.2, "qa-mediator", "dangam", true, ""),

		// Zhob: the site visit is not done in time.
		reply(10.8, "af-liaison", "zhob", truce.ReplyDeny, "", "No cell crossed from Paktika."),
		admit(10.5, "qa-mediator", "zhob"),
		openCase(10.6, "qa-mediator", "zhob", "Roadside bomb on the Zhob–Sambaza road"),
		task(10.65, "zhob-site", "zhob", truce.TaskSiteVisit, "monitor", 1.5, "Visit the blast site and the route from the border."),

		// Others: replies, admissions, a case left open.
		reply(12.4, "af-liaison-2", "ghulam-khan", truce.ReplyContest, "", "The rockets were fired by unknown persons from inside Pakistan."),
		reply(3.8, "af-liaison", "nawa-pass", truce.ReplyDeny, "", "Afghan forces did not fire at Nawa Pass."),
		admit(3.5, "tr-mediator", "nawa-pass"),
		reply(4.3, "pk-liaison-2", "shkin", truce.ReplyContest, "", "Our posts fired illumination rounds, not artillery."),
		reply(6.2, "pk-liaison", "asadabad", truce.ReplyDeny, "", "No Pakistani aircraft or drone flew over Kunar."),
		reject(7.0, "qa-mediator", "jalalabad-overflight", truce.RejectUnfounded, "", "The report names no time, no aircraft type and no damage; nothing to verify."),
		admit(8.3, "qa-mediator", "tani"),
		admit(11.2, "tr-mediator", "torkham"),
		openCase(11.3, "tr-mediator", "torkham", "Mortar fire at the Torkham crossing"),
		reply(10.1, "pk-liaison-2", "spin-boldak-2", truce.ReplyDeny, "", "No Pakistani artillery fired that day."),
		admit(10.2, "qa-mediator", "spin-boldak-2"),

		// The talks' commitments, and an amendment from the Istanbul round.
		commitment(6.0, "monitoring-teams", "Teams deployed at Torkham and Chaman; Ghulam Khan from the 27th."),
		{at: d(10.3), by: "tr-mediator", kind: rules.KindAmendmentProposed, key: "am:istanbul", body: func(s *scenario) any {
			return truce.AmendmentProposal{Summary: "Outcome of the Istanbul round: a clause on the crossings, and its commitments.", Agreement: s.amended()}
		}},
		{at: d(10.5), by: "af-liaison", kind: rules.KindAmendmentSigned, body: func(s *scenario) any { return truce.AmendmentSignature{Amendment: s.id("am:istanbul")} }},
		{at: d(10.6), by: "pk-liaison", kind: rules.KindAmendmentSigned, body: func(s *scenario) any { return truce.AmendmentSignature{Amendment: s.id("am:istanbul")} }},
		{at: d(10.9), by: "qa-mediator", kind: rules.KindAmendmentSigned, body: func(s *scenario) any { return truce.AmendmentSignature{Amendment: s.id("am:istanbul")} }},
	}
}

func (s *scenario) run(ctx context.Context) error {
	var evs []event
	for _, in := range incidents {
		evs = append(evs, event{at: in.event + in.filed, by: in.by, kind: rules.KindAllegationFiled, key: "al:" + in.key,
			body: func(s *scenario) any {
				f := truce.AllegationFiling{Category: in.cat, Occurred: truce.Occurred{From: s.start.Add(in.event), Precision: 1},
					Place: in.place, Clauses: in.clauses, Perpetrator: in.perp, Casualties: in.cas, Narrative: "[EXERCISE] " + in.text}
				if in.internal {
					f.Visibility = truce.Internal
				}
				if in.sealed != "" {
					f.Sealed = s.seal(in.sealed)
				}
				return f
			}})
	}
	evs = append(evs, workflow()...)
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	for _, ev := range evs {
		if err := s.advance(ctx, s.start.Add(ev.at)); err != nil {
			return err
		}
		body := ev.body(s)
		if s.err != nil {
			return fmt.Errorf("%w (day %.2f, %s by %s)", s.err, ev.at.Hours()/24, ev.kind, ev.by)
		}
		ack, err := s.submit(ctx, ev.by, ev.kind, body)
		if err != nil {
			return fmt.Errorf("%w (day %.2f)", err, ev.at.Hours()/24)
		}
		if ev.key != "" && ack.Record != nil {
			s.ids[ev.key] = ack.Record.ID
		}
		if ev.kind == rules.KindFindingSigned {
			if err := s.noteConsequences(); err != nil {
				return err
			}
		}
	}
	return s.advance(ctx, s.end)
}

// advance moves log time to t, stopping at each deadline on the way so
// that its tick is logged when it fell due.
func (s *scenario) advance(ctx context.Context, t time.Time) error {
	for {
		next, ok := s.in.Seq.NextDeadline()
		if !ok || next.After(t) {
			break
		}
		s.clock.Set(next)
		if err := s.in.Seq.Sync(ctx); err != nil {
			return err
		}
		if again, ok := s.in.Seq.NextDeadline(); ok && again.Equal(next) {
			return fmt.Errorf("demo scenario: the deadline at %s was not ticked", next)
		}
	}
	s.clock.Set(t)
	return nil
}

// noteConsequences keeps the ids of the consequences of findings in
// effect as "cq:<finding key>:<rule>".
func (s *scenario) noteConsequences() error {
	for key, id := range s.ids {
		fkey, ok := strings.CutPrefix(key, "fd:")
		if !ok {
			continue
		}
		var f truce.Finding
		if err := s.record(rules.TypeFinding, id, &f); err != nil {
			return err
		}
		for _, qid := range f.Consequences {
			var q truce.Consequence
			if err := s.record(rules.TypeConsequence, qid, &q); err != nil {
				return err
			}
			s.ids["cq:"+fkey+":"+q.Rule] = qid
		}
	}
	return nil
}

// record reads a record the scenario made, as committed.
func (s *scenario) record(typ, id string, into any) error {
	rec, err := s.in.Store.Record(context.Background(), typ, id)
	if err != nil {
		return fmt.Errorf("demo scenario: %s %s: %w", typ, id, err)
	}
	return json.Unmarshal(rec.Doc, into)
}

func (s *scenario) memberName(id string) string {
	for _, m := range Members {
		if m.ID == id {
			return m.Name
		}
	}
	return id
}

// amended is the agreement as the Istanbul round amends it: a clause on the
// crossings, and the round with its commitments.
func (s *scenario) amended() truce.Agreement {
	var a truce.Agreement
	if err := s.record(rules.TypeAgreement, "current", &a); err != nil {
		s.err = err
	}
	a.Version = 0
	a.Clauses = append(a.Clauses, truce.Clause{ID: "crossings-open", Title: "Crossings kept open",
		Text:       "Neither party closes the Torkham, Chaman or Ghulam Khan crossings in reprisal for an incident.",
		Categories: []string{"other", "looting_property_destruction"}})
	a.Talks = append(a.Talks, truce.TalksRound{ID: "istanbul", Name: "Second round of talks", Place: "Istanbul",
		From: s.start.Add(5 * day), To: s.start.Add(10 * day),
		Commitments: []truce.Commitment{
			{ID: "reconvene", Text: "Reconvene to finalise the monitoring and verification mechanism.", Owner: "TR", Due: s.start.Add(17 * day)},
			{ID: "investigation-protocol", Text: "Agree a protocol for joint investigation of attacks by armed groups.", Owner: truce.Mechanism, Due: s.start.Add(21 * day)},
		}})
	return a
}

// shiftDates moves every date of an agreement by d, so the exercise's
// dates sit just before its fortnight wherever that falls.
func shiftDates(a *truce.Agreement, d time.Duration) {
	a.Effective = a.Effective.Add(d)
	for i := range a.Talks {
		r := &a.Talks[i]
		r.From, r.To = r.From.Add(d), r.To.Add(d)
		for j := range r.Commitments {
			r.Commitments[j].Due = r.Commitments[j].Due.Add(d)
		}
	}
}

// openSources copies the exercise's articles into DIR/sources (moved to
// the demo's calendar), ingests
// them as the server would, and has the analyst grade two outlets and tie
// the story to the Kurram clash it corroborates.
func (s *scenario) openSources(ctx context.Context, dir string) error {
	out := filepath.Join(dir, "sources")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// The articles are written for the agreement file's calendar.
	ag, err := Agreement()
	if err != nil {
		return err
	}
	base := ag.Effective.Add(day)
	days := int(math.Floor(s.start.Sub(base).Hours() / 24))
	files, _ := fs.Glob(sourceFiles, "sources/*.html")
	for _, f := range files {
		b, _ := sourceFiles.ReadFile(f)
		if err := os.WriteFile(filepath.Join(out, filepath.Base(f)), shiftArticle(b, base.Year(), days), 0o644); err != nil {
			return err
		}
	}
	sink, err := ingest.NewLocal(s.in, s.clock.Now)
	if err != nil {
		return err
	}
	g := &ingest.Ingester{Sink: sink, Clock: s.clock.Now}
	var story string
	for _, r := range g.Run(ctx, []string{out}) {
		if r.Status != ingest.Ingested {
			return fmt.Errorf("%s: %s %s", r.Input, r.Status, r.Error)
		}
		if strings.HasSuffix(r.Input, "khyber-courier.html") {
			story = r.Source.Story
		}
	}
	for _, grade := range []truce.OutletGrading{
		{Outlet: "Gulf Wire", Reliability: "B", Reason: "[EXERCISE] A wire agency whose reports have matched later official statements."},
		{Outlet: "Kabul Ledger", Reliability: "C", Reason: "[EXERCISE] Close to the Afghan administration; its figures are often its ministries'."},
	} {
		if _, err := s.submit(ctx, "analyst", rules.KindOutletGraded, grade); err != nil {
			return err
		}
	}
	_, err = s.submit(ctx, "analyst", rules.KindSourceLinked, truce.SourceLink{Story: story, Allegation: s.ids["al:kurram"], Relation: "corroborates",
		Note: "[EXERCISE] Both sides' media report heavy losses near Angoor Adda and in Kurram that week; their figures differ (23 and 58)."})
	return err
}

// articleDates are what shiftArticle moves: "25 to 30 October", "30
// October", weekday names, and RFC 3339 times.
var articleDates = regexp.MustCompile(`\b(\d{1,2}) to (\d{1,2}) (` + monthNames + `)\b|\b(\d{1,2}) (` + monthNames + `)\b|\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)`)

const monthNames = `January|February|March|April|May|June|July|August|September|October|November|December`

// shiftArticle moves the dates of an article written for the agreement
// file's own calendar (dates in the text are of its year) by whole days,
// so that the reports fall on the days the demo's fortnight gives the
// rounds of talks. Weekday names move with them: a weekday the article
// gets wrong stays wrong by the same amount.
func shiftArticle(page []byte, year, days int) []byte {
	day := func(d, month string) time.Time {
		n, _ := strconv.Atoi(d)
		m, _ := time.Parse("January", month)
		return time.Date(year, m.Month(), n, 0, 0, 0, 0, time.UTC).AddDate(0, 0, days)
	}
	return articleDates.ReplaceAllFunc(page, func(b []byte) []byte {
		m := articleDates.FindSubmatch(b)
		switch {
		case m[1] != nil:
			from, to := day(string(m[1]), string(m[3])), day(string(m[2]), string(m[3]))
			if from.Month() == to.Month() {
				return fmt.Appendf(nil, "%d to %d %s", from.Day(), to.Day(), to.Month())
			}
			return fmt.Appendf(nil, "%d %s to %d %s", from.Day(), from.Month(), to.Day(), to.Month())
		case m[4] != nil:
			d := day(string(m[4]), string(m[5]))
			return fmt.Appendf(nil, "%d %s", d.Day(), d.Month())
		case m[6] != nil:
			for w := time.Sunday; w <= time.Saturday; w++ {
				if w.String() == string(m[6]) {
					return []byte(time.Weekday((int(w) + days%7 + 7) % 7).String())
				}
			}
		}
		t, err := time.Parse(time.RFC3339, string(b))
		if err != nil {
			return b
		}
		return []byte(t.AddDate(0, 0, days).Format(time.RFC3339))
	})
}
