package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gorilla/feeds"

	"github.com/truce-mvm/truce"
	"github.com/truce-mvm/truce/internal/auth"
	"github.com/truce-mvm/truce/internal/store"
)

// feedItems is how many notifications a feed lists.
const feedItems = 50

// Feed is the Atom feed of the member whose feed token this is: its
// recent notifications, each only if the member may read its record now.
// An unknown token is not found, as a feed that does not exist.
func (s *Service) Feed(ctx context.Context, token string) ([]byte, error) {
	notFound := truce.Errorf(truce.CodeNotFound, "no such feed")
	if !strings.HasPrefix(token, "tf_") || len(token) > 100 {
		return nil, notFound
	}
	sub, err := s.cfg.Store.FeedSubscription(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	m, ok := s.cfg.Members(sub.Member)
	if !ok {
		return nil, notFound
	}
	if pw, err := s.cfg.Store.Password(ctx, sub.Member); err == nil && auth.Suspended(pw) {
		return nil, notFound // a suspended member's feed is gone, as its sessions are
	}
	ds, err := s.cfg.Store.Deliveries(ctx, sub.Member, ChannelFeed, feedItems)
	if err != nil {
		return nil, err
	}
	f := &feeds.Feed{
		Title:       "Truce notifications for " + m.Name,
		Link:        &feeds.Link{Href: s.cfg.BaseURL + "/"},
		Description: "What " + m.Name + " chose to be told",
		Id:          s.cfg.BaseURL + "/feeds/" + sub.Member,
		Updated:     sub.Updated,
	}
	for _, d := range ds {
		rec, ok, err := s.sees(ctx, sub.Member, d.Record)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		link := s.cfg.BaseURL + PagePath(rec.Type, rec.ID)
		f.Items = append(f.Items, &feeds.Item{
			Id:          fmt.Sprintf("%s#%s-%d", link, d.Event, d.ID),
			Title:       fmt.Sprintf(subjects[d.Event], rec.ID),
			Link:        &feeds.Link{Href: link},
			Description: fmt.Sprintf("%s: %s %s, entry %d", d.Event, rec.Type, rec.ID, d.Index),
			Created:     d.Logged,
			Updated:     d.Done,
		})
		if d.Done.After(f.Updated) {
			f.Updated = d.Done
		}
	}
	atom, err := f.ToAtom()
	return []byte(atom), err
}
