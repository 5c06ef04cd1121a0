package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/blob"
	"github.com/truce-mvm/truce/internal/policy"
	"github.com/truce-mvm/truce/internal/store"
)

// checkFileName refuses names that could be taken for paths or that carry
// control characters. The name is only ever metadata: files are stored by
// hash.
func checkFileName(name string) error {
	bad := name == "." || name == ".." || len(name) > 200 || strings.ContainsAny(name, `/\:`) ||
		strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) }) >= 0
	if bad {
		return truce.FieldErrorf(truce.CodeInvalid, "name", "a file name without directories or control characters, at most 200 bytes")
	}
	return nil
}

func (s *Server) uploadBlob(w http.ResponseWriter, r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return truce.Errorf(truce.CodeMediaType, "give the file's media type as its Content-Type")
	}
	if r.ContentLength > s.cfg.Limits.MaxUploadBytes {
		return truce.Errorf(truce.CodeTooLarge, "the file is over %d bytes", s.cfg.Limits.MaxUploadBytes)
	}
	stored, err := s.StoreFile(r.Context(), viewerOf(r).Member, r.URL.Query().Get("name"), mt, r.Body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, stored)
	return nil
}

// StoreFile keeps an evidence file uploaded by m, by its SHA-256, within
// the upload limit. It is shared by the API and the pages.
func (s *Server) StoreFile(ctx context.Context, m *truce.Member, name, mediaType string, body io.Reader) (*store.Blob, error) {
	if s.cfg.Blobs == nil {
		return nil, truce.Errorf(truce.CodeUnavailable, "this server keeps no files")
	}
	if err := checkFileName(name); err != nil {
		return nil, err
	}
	sha, size, err := s.cfg.Blobs.Put(body, s.cfg.Limits.MaxUploadBytes)
	if errors.Is(err, blob.ErrTooLarge) {
		return nil, truce.Errorf(truce.CodeTooLarge, "the file is over %d bytes", s.cfg.Limits.MaxUploadBytes)
	}
	if err != nil {
		return nil, err
	}
	b := store.Blob{SHA256: sha, Size: size, MediaType: mediaType, Name: name, Uploader: m.ID, Party: m.Party, Uploaded: s.cfg.Clock()}
	if err := s.cfg.Store.PutBlob(ctx, b); err != nil {
		return nil, err
	}
	return s.cfg.Store.Blob(ctx, sha)
}

func (s *Server) downloadBlob(w http.ResponseWriter, r *http.Request) error {
	sha := r.PathValue("sha256")
	b, err := s.cfg.Store.Blob(r.Context(), sha)
	// The mechanism reads every file; a party the files its own side uploaded.
	if err == nil && !policy.AccessOf(viewerOf(r)).Sees(truce.Internal, b.Party) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) || s.cfg.Blobs == nil {
		return truce.Errorf(truce.CodeNotFound, "no file %q", sha)
	}
	if err != nil {
		return err
	}
	f, err := s.cfg.Blobs.Open(sha)
	if err != nil {
		return truce.Errorf(truce.CodeNotFound, "no file %q", sha)
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
