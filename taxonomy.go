package truce

// Category is an event category aligned with ACLED's event and sub-event
// types, so allegations export to ACLED's columns without mapping tables.
type Category struct {
	Slug         string `json:"slug"`
	EventType    string `json:"event_type"`
	SubEventType string `json:"sub_event_type"`
}

// Categories is the event taxonomy, in ACLED's order. Slugs are stable: they
// are written into signed entries.
var Categories = []Category{
	{"armed_clash", "Battles", "Armed clash"},
	{"government_regains_territory", "Battles", "Government regains territory"},
	{"non_state_overtakes_territory", "Battles", "Non-state actor overtakes territory"},
	{"chemical_weapon", "Explosions/Remote violence", "Chemical weapon"},
	{"air_drone_strike", "Explosions/Remote violence", "Air/drone strike"},
	{"suicide_bomb", "Explosions/Remote violence", "Suicide bomb"},
	{"shelling_artillery_missile", "Explosions/Remote violence", "Shelling/artillery/missile attack"},
	{"remote_explosive", "Explosions/Remote violence", "Remote explosive/landmine/IED"},
	{"grenade", "Explosions/Remote violence", "Grenade"},
	{"sexual_violence", "Violence against civilians", "Sexual violence"},
	{"attack", "Violence against civilians", "Attack"},
	{"abduction", "Violence against civilians", "Abduction/forced disappearance"},
	{"peaceful_protest", "Protests", "Peaceful protest"},
	{"protest_with_intervention", "Protests", "Protest with intervention"},
	{"excessive_force_against_protesters", "Protests", "Excessive force against protesters"},
	{"violent_demonstration", "Riots", "Violent demonstration"},
	{"mob_violence", "Riots", "Mob violence"},
	{"agreement", "Strategic developments", "Agreement"},
	{"arrests", "Strategic developments", "Arrests"},
	{"change_to_group_activity", "Strategic developments", "Change to group/activity"},
	{"disrupted_weapons_use", "Strategic developments", "Disrupted weapons use"},
	{"headquarters_established", "Strategic developments", "Headquarters or base established"},
	{"looting_property_destruction", "Strategic developments", "Looting/property destruction"},
	{"non_violent_transfer_of_territory", "Strategic developments", "Non-violent transfer of territory"},
	{"other", "Strategic developments", "Other"},
	// Not an ACLED sub-event type: movement of armed men across the border,
	// which the territory clause of a ceasefire like this one is about.
	// Exported to ACLED as Strategic developments / Other.
	{"cross_border_infiltration", "Strategic developments", "Other"},
}

// CategoryBySlug returns the category with the given slug.
func CategoryBySlug(slug string) (Category, bool) {
	for _, c := range Categories {
		if c.Slug == slug {
			return c, true
		}
	}
	return Category{}, false
}
