"""Referrals: online and self-referral, the four-week review, decisions and outcomes."""
