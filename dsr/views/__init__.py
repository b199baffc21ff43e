"""Views of the dsr app, by area: public pages and home, sign-in, people, the register list."""
