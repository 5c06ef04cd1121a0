package sitrep

import (
	"bytes"
	"embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// Formats a report is rendered in.
const (
	FormatJSON = "json"
	FormatHTML = "html"
	FormatPDF  = "pdf"
)

// Formats lists them, the canonical one first.
var Formats = []string{FormatJSON, FormatHTML, FormatPDF}

// ContentType is the media type of a format.
func ContentType(format string) string {
	switch format {
	case FormatHTML:
		return "text/html; charset=utf-8"
	case FormatPDF:
		return "application/pdf"
	}
	return "application/json"
}

// JSON is the canonical rendering, whose SHA-256 a publication logs:
// indented, HTML left unescaped, ending in a newline. It is a function of
// the report alone.
func (s *Situation) JSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Render writes the report in a format.
func (s *Situation) Render(w io.Writer, format string) error {
	switch format {
	case FormatJSON:
		b, err := s.JSON()
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case FormatHTML:
		return s.HTML(w)
	case FormatPDF:
		return s.PDF(w)
	}
	return fmt.Errorf("no report format %q", format)
}

// SVG draws a figure as a standalone SVG element.
func (f figure) SVG() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`,
		f.W, f.H, f.W, f.H, esc(f.Label))
	paint := func(sh shape) string {
		fill, stroke := "none", "none"
		if sh.Fill != "" {
			fill = sh.Fill
		}
		if sh.Stroke != "" {
			stroke = sh.Stroke
		}
		return fmt.Sprintf(` fill="%s" stroke="%s"`, fill, stroke)
	}
	for _, sh := range f.Shapes {
		title := ""
		if sh.Title != "" {
			title = "<title>" + esc(sh.Title) + "</title>"
		}
		switch sh.Kind {
		case rect:
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"%s>%s</rect>`, sh.X, sh.Y, sh.W, sh.H, paint(sh), title)
		case line:
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, sh.X, sh.Y, sh.X+sh.W, sh.Y+sh.H, sh.Stroke)
		case text:
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="%.0f" text-anchor="%s" fill="%s" font-family="sans-serif">%s</text>`,
				sh.X, sh.Y, sh.Size, sh.Anchor, sh.Fill, esc(sh.Text))
		case poly:
			b.WriteString(`<path d="`)
			for i, p := range sh.Points {
				op := "L"
				if i == 0 {
					op = "M"
				}
				fmt.Fprintf(&b, "%s%.1f %.1f", op, p[0], p[1])
			}
			fmt.Fprintf(&b, `Z"%s stroke-width="0.6">%s</path>`, paint(sh), title)
		case dot:
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f"%s stroke-width="1">%s</circle>`, sh.X, sh.Y, sh.W, paint(sh), title)
		}
	}
	b.WriteString("</svg>")
	return b.String()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ChartSVG is the chart of allegations and findings per day per party.
func (s *Situation) ChartSVG() string { return s.chart().SVG() }

// MapSVG is the map of the new allegations.
func (s *Situation) MapSVG() string { return s.atlas().SVG() }

//go:embed templates/report.html
var templates embed.FS

var page = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"day":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"svg":    func(s string) template.HTML { return template.HTML(s) }, // drawn here, its text escaped (esc)
	"colour": func(s *Situation, code string) template.CSS { return template.CSS(s.PartyColour(code)) },
}).ParseFS(templates, "templates/report.html"))

// HTML writes the report as one self-contained page: styles inline, the
// chart and the map as inline SVG, nothing fetched.
func (s *Situation) HTML(w io.Writer) error { return page.Execute(w, s) }

// DefaultTitle is a report's title when none is given.
const DefaultTitle = "Situation report"
