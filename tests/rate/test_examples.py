"""The rate examples run, write their figure, and show what they claim."""


def test_jansen_rit_example_has_an_alpha_peak_at_c_135(run_example):
    out = run_example("jansen_rit")
    rows = {float(line.split()[0]): [float(x) for x in line.split()[1:]]
            for line in out.splitlines()[1:] if line.strip()}
    peak, _ = rows[135.0]
    assert 8.0 <= peak <= 12.0, out  # Jansen & Rit (1995): an alpha rhythm at C = 135
    # Fig. 3: large spike-like waves at C = 270 and 675, small noisy activity at C = 68, 1350
    assert rows[270.0][1] > 5 * rows[135.0][1] and rows[68.0][1] < rows[135.0][1]
