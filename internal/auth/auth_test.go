package auth

import (
	"strings"
	"testing"
)

func TestPasswords(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("HashPassword = %q, %v", h, err)
	}
	if ok, err := CheckPassword(h, "correct horse"); !ok || err != nil {
		t.Fatalf("the right password was refused: %v", err)
	}
	if ok, _ := CheckPassword(h, "correct horse "); ok {
		t.Fatal("a wrong password was accepted")
	}
	h2, _ := HashPassword("correct horse")
	if h2 == h {
		t.Fatal("two hashes of one password share a salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "$argon2id$v=19$m=1,t=1,p=1$!!$AA"} {
		if _, err := CheckPassword(bad, "x"); err == nil {
			t.Errorf("CheckPassword accepted hash %q", bad)
		}
	}
	p, q := NewPassword(), NewPassword()
	if len(p) != 26 || p == q {
		t.Fatalf("NewPassword = %q, %q", p, q)
	}
}

func TestTokenHash(t *testing.T) {
	if string(HashToken("a")) == string(HashToken("b")) || len(HashToken("a")) != 32 {
		t.Fatal("HashToken")
	}
}

func TestStrength(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                      false,
		"aaaaaaaaaaaaaaaa":           false,
		"pk-liaison-2026!!":          false,
		"Password1234":               false,
		"river tractor blue lantern": true,
		"passwordpassword":           false,
		"12345678901234":             false,
		"abcdefghijkl":               false,
		"aaaaaaaabcde":               false,
		"xyzxyzxyzxyzxyz":            false,
		"کابل میں بارش ہے آج":        true,
	} {
		if err := CheckStrength("pk-liaison", pw); (err == nil) != ok {
			t.Errorf("%q: %v", pw, err)
		}
	}
}
