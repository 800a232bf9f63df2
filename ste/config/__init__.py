"""Each stage's params.yaml section, one strict model per module; `params.Params` composes them all."""
