"""The referrals app's forms.

- `steps`: the base of the referral's step forms and the steps about the person referred;
- `contact_steps`: the steps about the referrer, who is told the decision, and consent;
- `public`: the public journey that strings the steps together, and its check page;
- `staff`: the staff entry of a referral, built from the same steps' questions;
- `staff_review`: the queue's filters and the forms of the staff review and decision.
"""
