package testkit

import (
	"bytes"
	"compress/zlib"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RenderPDF renders every page of a PDF at 72 dpi with Debian's
// poppler-utils (pdftoppm), as a reader's viewer would draw it, and
// returns the pages. Outside CI it skips the test without pdftoppm; in CI
// (.ci/run installs it) its absence is a failure.
func RenderPDF(t testing.TB, pdf []byte) []image.Image {
	t.Helper()
	bin, err := exec.LookPath("pdftoppm")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no pdftoppm on this machine: .ci/run installs poppler-utils")
		}
		t.Skip("no pdftoppm on this machine (apt-get install poppler-utils); CI runs this test")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-png", "-r", "72", in, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if len(names) == 0 {
		t.Fatal("pdftoppm rendered no page")
	}
	var pages []image.Image
	for _, name := range names { // Glob sorts: page-1, page-2… (zero-padded)
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pages = append(pages, img)
	}
	return pages
}

// Colours counts the pixels of each colour (#rrggbb) across images.
func Colours(imgs []image.Image) map[string]int {
	out := map[string]int{}
	for _, img := range imgs {
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, _ := img.At(x, y).RGBA()
				out[hex(r>>8, g>>8, bl>>8)]++
			}
		}
	}
	return out
}

func hex(r, g, b uint32) string {
	const digits = "0123456789abcdef"
	return string([]byte{'#', digits[r>>4], digits[r&15], digits[g>>4], digits[g&15], digits[b>>4], digits[b&15]})
}

// PDFContent is a PDF's bytes with its compressed streams inflated, as
// far as they inflate: what a reader of the file can extract from it.
func PDFContent(pdf []byte) []byte {
	out := bytes.Clone(pdf)
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			return out
		}
		rest = rest[i+len("stream\n"):]
		end := bytes.Index(rest, []byte("endstream"))
		if end < 0 {
			return out
		}
		if r, err := zlib.NewReader(bytes.NewReader(rest[:end])); err == nil {
			b, _ := io.ReadAll(r)
			out = append(out, b...)
		}
		rest = rest[end+len("endstream"):]
	}
}
