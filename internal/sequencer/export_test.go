package sequencer

// WorkingSize is the size of the working state: what is committed, being
// committed and gathered.
func WorkingSize(s *Sequencer) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state.Size
}
