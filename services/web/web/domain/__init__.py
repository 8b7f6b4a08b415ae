"""The web service's pure rules: map projection, language choice, receipt links. No I/O."""
