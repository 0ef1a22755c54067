"""Personal data: keyed pseudonyms, the suppression list, retention and erasure
(README, "Personal data")."""
