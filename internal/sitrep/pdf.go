package sitrep

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// PDF writes the report as an A4 PDF in the core fonts, the chart and the
// map drawn with the library's primitives from the figures the SVG draws.
// The core fonts carry Western European letters only (Windows-1252):
// other letters lose their accents where that leaves a Latin letter, and
// are shown as "?" where not — names in Urdu, Pashto or Dari among them —
// with a note saying so and pointing to the HTML and JSON renderings,
// which give every name as written. Embedding a font that carries those
// scripts would make every report megabytes.
func (s *Situation) PDF(w io.Writer) error {
	p := fpdf.New("P", "pt", "A4", "")
	p.SetCompression(true)
	// The same report gives the same file: no clock in it.
	p.SetCreationDate(s.To)
	p.SetModificationDate(s.To)
	p.SetCatalogSort(true)
	d := &pdfDoc{p: p}
	p.SetTitle(d.latin(s.Title), false)
	p.SetProducer("truce", false)
	p.SetMargins(40, 40, 40)
	p.SetAutoPageBreak(true, 40)
	p.AddPage()

	p.SetFont("Helvetica", "B", 16)
	d.para(18, s.Title)
	p.SetFont("Helvetica", "", 9)
	d.para(12, fmt.Sprintf("%s to %s, as the log stood at %d entries; made of the records %s may see.", stamp(s.From), stamp(s.To), s.AsOf, s.Reader()))

	d.heading("Counts", 60)
	d.counts("New allegations by party accused", s.ByParty)
	d.counts("By category", s.ByCategory)
	d.counts("By area", s.ByArea)
	d.counts("Findings by determination", s.ByDetermination)

	chart := s.chart()
	d.heading("Allegations and findings per day", d.height(chart))
	d.figure(chart)
	atlas := s.atlas()
	d.heading("Map", d.height(atlas))
	d.figure(atlas)
	if n := s.Outside(); n > 0 {
		d.para(12, fmt.Sprintf("%d outside the map.", n))
	}

	row := func(a Allegation) []string {
		return []string{a.ID, a.Category, a.Filer, a.Accused, strings.Trim(a.Area+" · "+a.Place, " ·"), stamp(a.Filed), a.Status}
	}
	widths := []float64{60, 110, 40, 45, 120, 85, 55}
	heads := []string{"Allegation", "Category", "Filer", "Against", "Where", "Filed", "Status"}
	d.heading(listed("New allegations", s.Totals.New, len(s.New), "the newest"), 36)
	d.table(widths, heads, len(s.New), func(i int) []string { return row(s.New[i]) })
	d.heading(listed("Open allegations", s.Totals.Open, len(s.Open), "the oldest"), 36)
	d.table(widths, heads, len(s.Open), func(i int) []string { return row(s.Open[i]) })
	d.heading("Replies overdue, by party", 36)
	d.counts("", s.OverdueReplies)
	d.heading(listed("Findings in effect", s.Totals.Findings, len(s.Findings), "the newest"), 36)
	d.table([]float64{55, 55, 95, 60, 85, 165}, []string{"Finding", "Allegation", "Determination", "Responsible", "In effect", "Receipt"},
		len(s.Findings), func(i int) []string {
			f := s.Findings[i]
			return []string{f.ID, f.Allegation, f.Determination, f.Responsible, stamp(f.Effective), f.Receipt}
		})
	d.heading(listed("Consequences due", s.Totals.Consequences, len(s.Consequences), "the first due"), 36)
	d.table([]float64{60, 60, 170, 90, 135}, []string{"Consequence", "Finding", "What", "Of", "Due"}, len(s.Consequences), func(i int) []string {
		q := s.Consequences[i]
		return []string{q.ID, q.Finding, q.Title, q.Target, stamp(q.Due) + overdue(q.Overdue)}
	})
	d.heading(fmt.Sprintf("Commitments (%d)", len(s.Commitments)), 36)
	d.table([]float64{245, 50, 140, 80}, []string{"Commitment", "By", "Due", "Status"}, len(s.Commitments), func(i int) []string {
		c := s.Commitments[i]
		return []string{c.Text, c.Owner, stamp(c.Due) + overdue(c.Overdue), c.Status}
	})
	if d.replaced {
		p.SetFont("Helvetica", "I", 8)
		p.Ln(8)
		d.para(10, `Some names are in letters this PDF's fonts do not carry and are shown as "?": the HTML and JSON renderings of this report give them as written.`)
	}
	return p.Output(w)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

func overdue(b bool) string {
	if b {
		return " (overdue)"
	}
	return ""
}

// pdfDoc writes a report's parts onto pages.
type pdfDoc struct {
	p        *fpdf.Fpdf
	replaced bool // some text was not in the fonts' letters
}

// latin is s in the core fonts' encoding: accents dropped where the
// letter is otherwise missing, anything still missing "?".
func (d *pdfDoc) latin(s string) string {
	var b strings.Builder
	for _, r := range s {
		if c, ok := charmap.Windows1252.EncodeRune(r); ok {
			b.WriteByte(c)
			continue
		}
		base := []rune(norm.NFD.String(string(r)))
		if c, ok := charmap.Windows1252.EncodeRune(base[0]); ok && unicode.IsLetter(base[0]) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('?')
		d.replaced = true
	}
	return b.String()
}

func (d *pdfDoc) para(h float64, s string) { d.p.MultiCell(0, h, d.latin(s), "", "L", false) }

// heading begins a section, on a new page unless need points of it fit
// below.
func (d *pdfDoc) heading(s string, need float64) {
	d.p.Ln(6)
	_, ph := d.p.GetPageSize()
	_, _, _, bottom := d.p.GetMargins()
	if _, y := d.p.GetXY(); y+16+need > ph-bottom {
		d.p.AddPage()
	}
	d.p.SetFont("Helvetica", "B", 12)
	d.para(16, s)
	d.p.SetFont("Helvetica", "", 9)
}

func (d *pdfDoc) counts(caption string, cs []Count) {
	if caption != "" {
		d.p.SetFont("Helvetica", "I", 9)
		d.para(12, caption)
		d.p.SetFont("Helvetica", "", 9)
	}
	if len(cs) == 0 {
		d.para(12, "none")
	}
	for _, c := range cs {
		d.p.CellFormat(160, 12, d.latin(c.Key), "", 0, "L", false, 0, "")
		d.p.CellFormat(40, 12, strconv.Itoa(c.N), "", 1, "R", false, 0, "")
	}
}

func (d *pdfDoc) table(widths []float64, heads []string, n int, row func(int) []string) {
	line := func(cells []string) {
		for i, c := range cells {
			txt := d.latin(c)
			for txt != "" && d.p.GetStringWidth(txt) > widths[i]-4 {
				txt = txt[:len(txt)-1] // one byte a letter in this encoding
			}
			d.p.CellFormat(widths[i], 12, txt, "B", 0, "L", false, 0, "")
		}
		d.p.Ln(12)
	}
	d.p.SetFont("Helvetica", "B", 8)
	line(heads)
	d.p.SetFont("Helvetica", "", 8)
	for i := range n {
		line(row(i))
	}
	if n == 0 {
		d.para(12, "none")
	}
}

// height is how tall a figure is drawn.
func (d *pdfDoc) height(f figure) float64 {
	pw, _ := d.p.GetPageSize()
	left, _, right, _ := d.p.GetMargins()
	return f.H * (pw - left - right) / f.W
}

// figure draws f across the page's width, on a new page if it does not
// fit on this one.
func (d *pdfDoc) figure(f figure) {
	pw, ph := d.p.GetPageSize()
	left, _, right, bottom := d.p.GetMargins()
	k := (pw - left - right) / f.W
	_, y0 := d.p.GetXY()
	if y0+f.H*k > ph-bottom {
		d.p.AddPage()
		_, y0 = d.p.GetXY()
	}
	x0 := left
	at := func(x, y float64) (float64, float64) { return x0 + x*k, y0 + y*k }
	for _, sh := range f.Shapes {
		style := d.paint(sh)
		switch sh.Kind {
		case rect:
			x, y := at(sh.X, sh.Y)
			d.p.Rect(x, y, sh.W*k, sh.H*k, style)
		case line:
			x1, y1 := at(sh.X, sh.Y)
			x2, y2 := at(sh.X+sh.W, sh.Y+sh.H)
			d.p.Line(x1, y1, x2, y2)
		case poly:
			pts := make([]fpdf.PointType, len(sh.Points))
			for i, pt := range sh.Points {
				pts[i].X, pts[i].Y = at(pt[0], pt[1])
			}
			d.p.Polygon(pts, style)
		case dot:
			x, y := at(sh.X, sh.Y)
			d.p.Circle(x, y, sh.W*k, style)
		case text:
			d.p.SetFont("Helvetica", "", sh.Size*k)
			txt := d.latin(sh.Text)
			x, y := at(sh.X, sh.Y)
			switch w := d.p.GetStringWidth(txt); sh.Anchor {
			case "middle":
				x -= w / 2
			case "end":
				x -= w
			}
			d.p.SetTextColor(rgb(sh.Fill))
			d.p.Text(x, y, txt)
			d.p.SetTextColor(0, 0, 0)
		}
	}
	d.p.SetFont("Helvetica", "", 9)
	d.p.SetXY(left, y0+f.H*k+6)
}

// paint sets the colours of a shape and returns its fpdf style.
func (d *pdfDoc) paint(sh shape) string {
	d.p.SetLineWidth(0.5)
	style := ""
	if sh.Fill != "" {
		d.p.SetFillColor(rgb(sh.Fill))
		style += "F"
	}
	if sh.Stroke != "" {
		d.p.SetDrawColor(rgb(sh.Stroke))
		style += "D"
	}
	return style
}

func rgb(c string) (int, int, int) {
	v, _ := strconv.ParseUint(strings.TrimPrefix(c, "#"), 16, 32)
	return int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff)
}

// listed heads a list a report may cut short, as the HTML does.
func listed(what string, total, shown int, which string) string {
	if total > shown {
		return fmt.Sprintf("%s (%d; %s %d listed)", what, total, which, shown)
	}
	return fmt.Sprintf("%s (%d)", what, total)
}
