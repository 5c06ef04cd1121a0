package tlog

import (
	"container/list"
	"context"
	"sync"
)

// Cache is a TileReader that keeps recently read full tiles and bundles,
// which never change, in memory. Partial tiles are always read through.
type Cache struct {
	tr  TileReader
	max int

	mu    sync.Mutex
	ll    *list.List
	items map[[2]int64]*list.Element
}

type cached struct {
	key  [2]int64
	data []byte
}

// NewCache returns a cache of up to max full tiles in front of tr.
func NewCache(tr TileReader, max int) *Cache {
	return &Cache{tr: tr, max: max, ll: list.New(), items: map[[2]int64]*list.Element{}}
}

// ReadTile implements TileReader.
func (c *Cache) ReadTile(ctx context.Context, level int, n int64) ([]byte, error) {
	k := [2]int64{int64(level), n}
	c.mu.Lock()
	if e, ok := c.items[k]; ok {
		c.ll.MoveToFront(e)
		c.mu.Unlock()
		return e.Value.(*cached).data, nil
	}
	c.mu.Unlock()
	data, err := c.tr.ReadTile(ctx, level, n)
	if err != nil || !full(level, data) {
		return data, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; !ok {
		c.items[k] = c.ll.PushFront(&cached{k, data})
		for c.ll.Len() > c.max {
			old := c.ll.Remove(c.ll.Back()).(*cached)
			delete(c.items, old.key)
		}
	}
	return data, nil
}

func full(level int, data []byte) bool {
	if level >= 0 {
		return len(data) == TileWidth*HashSize
	}
	_, err := TrimTile(Tile{L: -1, W: TileWidth}, data)
	return err == nil
}

// HashSize is the size of a tree hash.
const HashSize = 32
