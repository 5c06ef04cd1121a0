package bench

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/truce-mvm/truce/internal/extract"
)

// Published F1 on the article-extraction benchmark (its README).
var publishedF1 = map[string]float64{
	"rs_trafilatura": 0.970, "go-trafilatura": 0.960, "trafilatura 2.0": 0.958, "newspaper4k": 0.949,
	"readability.js (= readeck go-readability)": 0.947, "go-shiori go-readability": 0.934,
}

// ExtractionResult is the article-extraction benchmark's figures.
type ExtractionResult struct {
	Pages       int                `json:"pages"`
	Failed      int                `json:"failed"` // pages the extractor refused (scored as empty)
	F1          float64            `json:"f1"`
	Precision   float64            `json:"precision"`
	Recall      float64            `json:"recall"`
	MsPerPage   float64            `json:"ms_per_page_one_core"`
	TargetF1    float64            `json:"target_f1"`
	TargetMs    float64            `json:"target_ms_per_page"`
	PublishedF1 map[string]float64 `json:"published_f1"`
}

// Extraction runs the extractor over the benchmark in dir (ground-truth.json
// and html/<id>.html.gz) and scores it with the benchmark's metric. Pages
// are decompressed before the clock starts; extraction runs on one core.
func Extraction(dir string) (*ExtractionResult, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "ground-truth.json"))
	if err != nil {
		return nil, err
	}
	var truth map[string]struct {
		ArticleBody string `json:"articleBody"`
		URL         string `json:"url"`
	}
	if err := json.Unmarshal(raw, &truth); err != nil {
		return nil, fmt.Errorf("ground-truth.json: %w", err)
	}
	ids := make([]string, 0, len(truth))
	for id := range truth {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	pages := make([][]byte, len(ids))
	for i, id := range ids {
		if pages[i], err = readGzip(filepath.Join(dir, "html", id+".html.gz")); err != nil {
			return nil, err
		}
	}
	res := &ExtractionResult{Pages: len(ids), TargetF1: 0.95, TargetMs: 10, PublishedF1: publishedF1}
	bodies := make([]string, len(ids))
	start := time.Now()
	for i := range ids {
		a, err := extract.Extract(pages[i], "text/html; charset=utf-8", nil)
		if err != nil {
			res.Failed++
			continue
		}
		bodies[i] = a.Body
	}
	res.MsPerPage = float64(time.Since(start).Microseconds()) / 1000 / float64(len(ids))
	var ps, rs []float64
	for i, id := range ids {
		p, r, pOK, rOK := extract.Score(truth[id].ArticleBody, bodies[i])
		if pOK {
			ps = append(ps, p)
		}
		if rOK {
			rs = append(rs, r)
		}
	}
	res.Precision, res.Recall = mean(ps), mean(rs)
	if res.Precision+res.Recall > 0 {
		res.F1 = 2 * res.Precision * res.Recall / (res.Precision + res.Recall)
	}
	return res, nil
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(z)
}
