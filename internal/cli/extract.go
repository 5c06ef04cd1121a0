package cli

import (
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/truce-mvm/truce/internal/extract"
	"github.com/truce-mvm/truce/internal/fetch"
)

func cmdExtract(e *env, args []string) error {
	fs := e.flags("extract")
	pos, err := parseMixed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "usage: truce extract PATH|URL")
		return errUsage
	}
	var page []byte
	var contentType string
	var pageURL *url.URL
	if strings.HasPrefix(pos[0], "http://") || strings.HasPrefix(pos[0], "https://") {
		// Asked for by the user at this machine: any address it may reach.
		p, err := fetch.New(extract.MaxPage, true).Get(e.ctx, pos[0])
		if err != nil {
			return err
		}
		page, contentType, pageURL = p.Body, p.ContentType, p.URL
	} else {
		if page, err = os.ReadFile(pos[0]); err != nil {
			return err
		}
		contentType = mime.TypeByExtension(filepath.Ext(pos[0]))
	}
	a, err := extract.Extract(page, contentType, pageURL)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintf(e.stdout, "title: %s\n", a.Title)
	if !a.Published.IsZero() {
		fmt.Fprintf(e.stdout, "date:  %s\n", a.Published.UTC().Format(time.RFC3339))
	}
	if a.Site != "" {
		fmt.Fprintf(e.stdout, "site:  %s\n", a.Site)
	}
	fmt.Fprintf(e.stdout, "\n%s\n", a.Body)
	return nil
}
