"""Knowledge of Chinese work reports as text: normalisation, terms, heading grammar, unit names."""
