package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/gate"
)

func (s *Server) uploadBlob(w http.ResponseWriter, r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return truce.Errorf(truce.CodeMediaType, "give the file's media type as its Content-Type")
	}
	if max := s.cfg.Gate.Limits().MaxUploadBytes; r.ContentLength > max {
		return truce.Errorf(truce.CodeTooLarge, "the file is over %d bytes", max)
	}
	stored, err := s.cfg.Submit.StoreFile(r.Context(), gate.Viewer(r), r.URL.Query().Get("name"), mt, r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, stored)
	return nil
}

func (s *Server) downloadBlob(w http.ResponseWriter, r *http.Request) error {
	b, f, err := s.cfg.Read.File(r.Context(), gate.Viewer(r), r.PathValue("sha256"))
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", b.MediaType)
	h.Set("Content-Length", strconv.FormatInt(b.Size, 10))
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.ToValidUTF8(b.Name, "_")))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	_, err = io.Copy(w, f)
	return err
}
