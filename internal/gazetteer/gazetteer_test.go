package gazetteer

import (
	"testing"
)

func names(text string) []string {
	var out []string
	for _, p := range Find(text) {
		out = append(out, p.Name+"/"+p.Country+"/"+p.Admin1)
	}
	return out
}

func TestFind(t *testing.T) {
	if Size() < 900 {
		t.Fatalf("the gazetteer holds %d names", Size())
	}
	for _, c := range []struct {
		text string
		want []string
	}{
		// Diacritics folded; multi-word names; each place once.
		{"Shelling near Spin Boldak and Kandahar, then again in Spin Boldak.", []string{"Spīn Bōldak/AF/Kandahar", "Kandahār/AF/Kandahar"}},
		{"Drones struck Miran Shah in North Waziristan.", []string{"Miran Shah/PK/Khyber Pakhtunkhwa"}},
		// "province" picks the province.
		{"Fighting spread across Kunar province.", []string{"Kunar/AF/Kunar"}},
		// Talks venues.
		{"The delegations met in Doha and later in Istanbul.", []string{"Doha/QA/Baladiyat ad Dawhah", "Istanbul/TR/Istanbul"}},
		// Ordinary words are not places, unless cued; lower case never is.
		{"Tank fire was heard. A convoy left from Tank at dawn.", []string{"Tank/PK/Khyber Pakhtunkhwa"}},
		{"the kabul road", nil},
	} {
		got := names(c.text)
		if len(got) != len(c.want) {
			t.Errorf("%q: %v, want %v", c.text, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: %v, want %v", c.text, got, c.want)
			}
		}
	}
}

func FuzzFind(f *testing.F) {
	f.Add("Shelling near Spīn Bōldak, Kunar province, in Tank.")
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range Find(s) {
			if p.Name == "" || p.Lat < -90 || p.Lat > 90 {
				t.Fatalf("%+v", p)
			}
		}
	})
}
