package web

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"reflect"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/rules"
)

// evidenceFields are the registration's fields the upload form asks for;
// the hash, size and media type come from the file.
var evidenceFields = func() []field {
	var out []field
	for _, f := range fieldsOf("evidence", reflect.TypeOf(truce.EvidenceRegistration{}), "") {
		switch f.Name {
		case "sha256", "size", "media_type":
			continue
		}
		out = append(out, f)
	}
	return out
}()

func (s *Server) evidenceForm(w http.ResponseWriter, r *http.Request, v *view) error {
	s.renderEvidence(w, v, r.URL.Query(), nil)
	return nil
}

func (s *Server) renderEvidence(w http.ResponseWriter, v *view, values url.Values, errs map[string]string) {
	v.Fields = errs
	d := &formData{Action: "evidence", Fields: append([]field(nil), evidenceFields...)}
	for i := range d.Fields {
		d.Fields[i].Value = values.Get(d.Fields[i].Name)
		d.Fields[i].Error = errs[d.Fields[i].Name]
	}
	s.render(w, v, "evidence", v.L.T("act.register-evidence"), d)
}

// uploadEvidence keeps the file by its hash and registers it, signed with
// the member's custodial key.
func (s *Server) uploadEvidence(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return truce.Errorf(truce.CodeTooLarge, "%s", v.L.T("evidence.too_large"))
		}
		return truce.Errorf(truce.CodeInvalid, "%v", err)
	}
	defer r.MultipartForm.RemoveAll()
	values := url.Values(r.MultipartForm.Value)
	var body truce.EvidenceRegistration
	errs := readForm(v, reflect.ValueOf(&body).Elem(), values)
	file, header, err := r.FormFile("file")
	if err != nil {
		errs["file"] = v.L.T("evidence.no_file")
	}
	if len(errs) == 0 {
		defer file.Close()
		mt, _, err := mime.ParseMediaType(header.Header.Get("Content-Type"))
		if err != nil {
			mt = "application/octet-stream"
		}
		stored, err := s.cfg.API.StoreFile(r.Context(), v.Member, header.Filename, mt, file)
		if err == nil {
			body.SHA256, body.Size, body.MediaType = stored.SHA256, stored.Size, stored.MediaType
			ack, err2 := s.submit(r, v, rules.KindEvidenceRegistered, &body)
			if err2 == nil {
				http.Redirect(w, r, recordPath(ack.Record.Type, ack.Record.ID), http.StatusSeeOther)
				return nil
			}
			err = err2
		}
		if err := refused(err, v, errs, evidenceFields); err != nil {
			return err
		}
	}
	unprocessable(w, v)
	s.renderEvidence(w, v, values, errs)
	return nil
}
