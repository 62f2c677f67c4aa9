def test_fit_recordings_example_prints_held_out_scores_per_model(run_example):
    out = run_example("fit_recordings", "--duration", 300, "--samples", 16, "--steps", 3)
    assert "held-out Γ" in out and "RMSE (mV)" in out
    for model in ("AdEx", "Izhikevich", "ALIF"):
        assert f"\n{model} " in out
