package bench

import (
	"os"
	"path/filepath"
	"testing"
)

// The extractor keeps its quality on the public article-extraction
// benchmark, which CI has beside the project (../shared). Its speed is
// measured by truce bench extract, not here.
func TestExtractionQuality(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "benchmarks", "article-extraction")
	if _, err := os.Stat(filepath.Join(dir, "ground-truth.json")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the article-extraction benchmark is not beside the project: %v", err)
		}
		t.Skip("no ../shared/benchmarks/article-extraction beside the project")
	}
	res, err := Extraction(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 181 || res.F1 < 0.95 {
		t.Fatalf("F1 %.3f on %d pages (precision %.3f, recall %.3f); the target is 0.95", res.F1, res.Pages, res.Precision, res.Recall)
	}
}
