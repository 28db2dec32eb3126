"""Pooled spend: where the council's pooled money went, by group, member, provider, service, kind of provider and month."""
