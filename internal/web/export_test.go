package web

import (
	"net/http"
	"time"
)

// Languages are the catalogues, for the tests of the pages from outside.
func Languages() []*Lang { return languages }

// Project places a point on the map as the map page does.
func Project(lon, lat float64) (x, y float64) { return region.Project(lon, lat) }

// VisitCookie is the cookie of a member's visits, as the dashboard keeps it.
func VisitCookie(member string, prev, last int64, at time.Time) *http.Cookie {
	return &http.Cookie{Name: visitCookie, Value: writeVisit(member, prev, last, at), Path: "/"}
}
