package web

// Languages are the catalogues, for the tests of the pages from outside.
func Languages() []*Lang { return languages }

// Project places a point on the map as the map page does.
func Project(lon, lat float64) (x, y float64) { return region.Project(lon, lat) }
