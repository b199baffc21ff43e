"""The reviews app's forms, named as in the other apps: `public` for C(E)TR requests (the form
anyone may send, which staff also use to enter a request taken by phone, and its triage), `staff`
for meetings, actions, C(E)TRs and oversight visits."""
