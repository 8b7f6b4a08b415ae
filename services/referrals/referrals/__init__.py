"""Beat referrals service."""
