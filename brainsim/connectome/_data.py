"""Reading C. elegans connectomes: from an installed `cect` package, or from the bundled copy."""

from __future__ import annotations

import csv
import dataclasses
import importlib.resources
import importlib.util
import json
import pathlib
import re

import numpy as np

# Datasets whose data brainsim ships (derived from cect 0.3.5, MIT licence; see ATTRIBUTION.md).
BUNDLED = ("Varshney", "Cook2019Herm", "Witvliet8")
BUNDLE_FILE = "celegans_connectomes.npz"
GAP_CLASS = "Generic_GJ"
# Synapse classes of cect's datasets that are chemical synapses (others: gap junctions,
# neuropeptide or monoamine signalling, membrane contact, functional connectivity).
CHEMICAL_CLASSES = ("Generic_CS", "Acetylcholine", "Glutamate", "GABA", "Betaine",
                    "ExcitatoryChem", "InhibitoryChem", "OtherChemicalNT")  # fmt: skip
# GABAergic neurons of the hermaphrodite (McIntire et al. 1993; Gendrel et al. 2016): the
# inhibitory presynaptic cells where a dataset does not give transmitters.
GABAERGIC = (
    ("DD1", "DD2", "DD3", "DD4", "DD5", "DD6")
    + tuple(f"VD{i}" for i in range(1, 14))
    + ("RMED", "RMEL", "RMER", "RMEV", "AVL", "DVB", "RIS")
)
_SENSORY_TYPES = ("sensory", "mechanosensory", "amphid", "cephalic", "touch", "phasmid",
                  "o2, co2", "polymodal")  # fmt: skip


def cell_class(cell_type: str) -> str:
    """`"sensory"`, `"interneuron"`, `"motor"`, `"muscle"` or `"other"` from a cell type of
    cect's `all_cell_info.csv` (the part before a `;` decides: "Sublateral motor neuron;
    interneuron in White et al., 1986" is a motor neuron)."""
    t = cell_type.split(";")[0].strip().lower()
    if "sheath" in t or "glr" in t:
        return "other"
    if "muscle" in t or "oblique" in t or "protractor" in t or "retractor" in t or (
        "erector" in t
    ):
        return "muscle"
    if "motor neuron" in t or "motorneuron" in t:
        return "motor"
    if any(s in t for s in _SENSORY_TYPES):
        return "sensory"
    if "interneuron" in t or "linker to pharynx" in t or "canal neuron" in t:
        return "interneuron"
    return "other"


@dataclasses.dataclass(frozen=True)
class Synapses:
    """Directed connections `pre[k] -> post[k]` (indices into `Connectome.nodes`) with
    `weight[k]` (cect's entry: number of synapses or contacts, or the dataset's weight)."""

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return int(self.pre.size)


@dataclasses.dataclass(frozen=True)
class Connectome:
    """A C. elegans connectome: cells, chemical synapses and gap junctions.

    Attributes:
        name: dataset name (cect's reader name without `Data` and `Reader`, e.g.
            `"Cook2019Herm"`).
        nodes: cell names, in cect's order.
        cell_types: cect's cell type of each node (`all_cell_info.csv`).
        classes: `"sensory"`, `"interneuron"`, `"motor"`, `"muscle"` or `"other"` per node.
        connections: `{synapse class: Synapses}` as the dataset gives them (`"Generic_CS"`,
            `"Generic_GJ"`, `"Acetylcholine"`, ...), every nonzero entry of cect's matrix
            (row = presynaptic), gap junctions in both directions.
        summary: cect's own summary of the dataset: `{"nodes": n, class: (nonzero entries,
            sum of entries)}`, parsed from `ConnectomeDataset.summary()`.
        source: where the data came from (`"cect 0.3.5"` installed, or `"bundled (cect
            0.3.5)"`).
    """

    name: str
    nodes: tuple[str, ...]
    cell_types: tuple[str, ...]
    classes: tuple[str, ...]
    connections: dict[str, Synapses]
    summary: dict
    source: str

    def __len__(self) -> int:
        return len(self.nodes)

    def index(self, names) -> np.ndarray:
        """Indices of the cells `names` (a name or a list); KeyError names the missing ones."""
        names = [names] if isinstance(names, str) else list(names)
        lookup = {n: i for i, n in enumerate(self.nodes)}
        missing = [n for n in names if n not in lookup]
        if missing:
            raise KeyError(f"cells {missing} are not in connectome {self.name!r}.")
        return np.array([lookup[n] for n in names], dtype=np.int64)

    def of_class(self, *classes: str) -> np.ndarray:
        """Indices of the cells of the given classes (e.g. `"sensory"`)."""
        known = {"sensory", "interneuron", "motor", "muscle", "other"}
        if not set(classes) <= known:
            raise ValueError(f"cell classes must be among {sorted(known)}, got {classes}.")
        return np.array([i for i, c in enumerate(self.classes) if c in classes], np.int64)

    @property
    def chemical(self) -> Synapses:
        """All chemical synapses (every class in `CHEMICAL_CLASSES`, merged per pair)."""
        parts = [s for c, s in self.connections.items() if c in CHEMICAL_CLASSES]
        return _merge(parts, len(self))

    @property
    def gap(self) -> Synapses:
        """Gap junctions, each unordered pair once (`pre < post`), self-junctions dropped."""
        s = self.connections.get(GAP_CLASS)
        if s is None:
            return Synapses(*(np.zeros(0, dt) for dt in (np.int64, np.int64, float)))
        keep = s.pre < s.post
        return Synapses(s.pre[keep], s.post[keep], s.weight[keep])

    def matrix(self, synapse_class: str) -> np.ndarray:
        """cect's dense matrix of one synapse class (rows presynaptic)."""
        if synapse_class not in self.connections:
            raise KeyError(f"connectome {self.name!r} has no class {synapse_class!r}; it has "
                           f"{sorted(self.connections)}.")  # fmt: skip
        s = self.connections[synapse_class]
        m = np.zeros((len(self), len(self)))
        m[s.pre, s.post] = s.weight
        return m

    def subset(self, indices) -> Connectome:
        """The connectome restricted to the cells `indices` (in that order)."""
        indices = np.asarray(indices, np.int64)
        new = -np.ones(len(self), np.int64)
        new[indices] = np.arange(indices.size)
        connections = {}
        for c, s in self.connections.items():
            keep = (new[s.pre] >= 0) & (new[s.post] >= 0)
            connections[c] = Synapses(new[s.pre[keep]], new[s.post[keep]], s.weight[keep])
        pick = lambda seq: tuple(seq[i] for i in indices)  # noqa: E731
        return dataclasses.replace(self, nodes=pick(self.nodes), cell_types=pick(self.cell_types),
                                   classes=pick(self.classes), connections=connections)  # fmt: skip

    def neurons(self) -> Connectome:
        """The connectome restricted to its neurons (sensory, inter- and motor neurons)."""
        return self.subset(self.of_class("sensory", "interneuron", "motor"))

    def statistics(self) -> dict:
        """Connectivity statistics: per class the nonzero entries and sum of entries of the
        matrix (what cect's summary reports), and for the chemical and gap-junction networks
        the number of connected pairs, synapses, mean degree, and the reciprocity of chemical
        connections (fraction of connected pairs that are connected both ways)."""
        out: dict = {"nodes": len(self)}
        for c, s in self.connections.items():
            out[c] = (len(s), float(s.weight.sum()))
        chem, gap = self.chemical, self.gap
        pairs = set(zip(chem.pre.tolist(), chem.post.tolist(), strict=True))
        mutual = sum((b, a) in pairs for a, b in pairs if a != b)
        out["chemical_connections"] = len(chem)
        out["chemical_synapses"] = float(chem.weight.sum())
        out["chemical_mean_out_degree"] = len(chem) / max(len(self), 1)
        out["chemical_reciprocity"] = mutual / max(len([p for p in pairs if p[0] != p[1]]), 1)
        out["gap_pairs"] = len(gap)
        out["gap_contacts"] = float(gap.weight.sum())
        out["gap_mean_degree"] = 2 * len(gap) / max(len(self), 1)
        return out


def _merge(parts: list[Synapses], n: int) -> Synapses:
    if not parts:
        return Synapses(*(np.zeros(0, dt) for dt in (np.int64, np.int64, float)))
    key = np.concatenate([p.pre * n + p.post for p in parts])
    weight = np.concatenate([p.weight for p in parts])
    unique, inverse = np.unique(key, return_inverse=True)
    total = np.zeros(unique.size)
    np.add.at(total, inverse, weight)
    return Synapses(unique // n, unique % n, total)


_SUMMARY_NODES = re.compile(r"Nodes present \((\d+)\)")
_SUMMARY_CLASS = re.compile(
    r"- Connection type - (\S+): \((\d+), (\d+)\), (\d+) non-zero entries, sum of entries = (-?\d+)"
)


def parse_summary(text: str) -> dict:
    """cect's `ConnectomeDataset.summary()` text as `{"nodes": n, class: (nonzero, sum)}`."""
    out: dict = {}
    match = _SUMMARY_NODES.search(text)
    if match:
        out["nodes"] = int(match.group(1))
    for c, _, _, nonzero, total in _SUMMARY_CLASS.findall(text):
        out[c] = (int(nonzero), float(total))
    return out


def dataset_key(name: str) -> str:
    """A dataset's name without cect's `Data` and `Reader` parts: `"VarshneyDataReader"`,
    `"VarshneyReader"` and `"Varshney"` are all `"Varshney"`; `"WitvlietDataReader8"` is
    `"Witvliet8"`."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"`name` must be a dataset name such as 'Cook2019Herm', got {name!r}.")
    return name.replace("Reader", "").replace("Data", "")


def _cect_files(root: pathlib.Path) -> dict[str, pathlib.Path]:
    return {dataset_key(p.stem): p for p in sorted((root / "cache").glob("*.json"))
            if p.stem != "symmetry_measures"}  # fmt: skip


def cect_root() -> pathlib.Path | None:
    """The folder of the installed `cect` package, or None (nothing of cect is imported)."""
    spec = importlib.util.find_spec("cect")
    if spec is None or not spec.submodule_search_locations:
        return None
    return pathlib.Path(next(iter(spec.submodule_search_locations)))


def _cect_version(root: pathlib.Path) -> str:
    text = (root / "__init__.py").read_text()
    match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", text)
    return match.group(1) if match else "?"


def cect_cell_types(root: pathlib.Path) -> dict[str, str]:
    """`{cell name: type}` from cect's `data/all_cell_info.csv`."""
    with open(root / "data" / "all_cell_info.csv", newline="") as f:
        return {row["Cell name"]: row["Type"] for row in csv.DictReader(f)}


def available_connectomes(source: str = "auto") -> list[str]:
    """Names of the datasets `load_connectome` can read: every cached reader of an installed
    cect (`source="cect"`), the bundled ones (`"bundled"`), or whichever applies (`"auto"`)."""
    _check_source(source)
    root = cect_root()
    if source == "cect" or (source == "auto" and root is not None):
        if root is None:
            raise ModuleNotFoundError(_NO_CECT)
        return sorted(_cect_files(root))
    return list(BUNDLED)


_NO_CECT = (
    "reading a connectome from cect needs the `cect` package (OpenWorm's C. elegans Connectome "
    "Toolbox, MIT licence). Its dependencies are heavy and not needed here: install it alone "
    "with `pip install --no-deps cect`, or `pip install 'brainsim[connectome]'` for cect with "
    "all its dependencies. Without it, `source='bundled'` reads the datasets shipped with "
    f"brainsim: {', '.join(BUNDLED)}."
)


def _check_source(source: str) -> None:
    if source not in ("auto", "cect", "bundled"):
        raise ValueError(f"`source` must be 'auto', 'cect' or 'bundled', got {source!r}.")


def load_connectome(name: str = "Cook2019Herm", *, source: str = "auto") -> Connectome:
    """Load a C. elegans connectome of OpenWorm's C. elegans Connectome Toolbox (cect).

    Reads the dataset's data file directly (cect's cached `ConnectomeDataset` of the reader, a
    JSON file in the installed package's `cache/` folder): nothing of cect is
    imported, so cect can be installed with `pip install --no-deps cect`. Cell types come from
    cect's `data/all_cell_info.csv`.

    Args:
        name: dataset: cect's reader name, with or without its `Data`/`Reader` parts
            (`dataset_key`): `"Varshney"` (Varshney et al. 2011), `"Cook2019Herm"`,
            `"Cook2019Male"` (Cook et al. 2019), `"Cook2020"`, `"Witvliet1"` ... `"Witvliet8"`
            (Witvliet et al. 2021, 8 = adult), `"White_whole"` (White et al. 1986),
            `"OpenWormUnified"`, ... (`available_connectomes()`).
        source: `"cect"` (the installed package; an error explains how to install it),
            `"bundled"` (brainsim's copy of `Varshney`, `Cook2019Herm` and `Witvliet8`, derived
            from cect 0.3.5), or `"auto"` (cect when installed, else the bundled copy).

    Returns:
        a `Connectome`.

    Examples:
        >>> import brainsim as bs
        >>> worm = bs.connectome.load_connectome("Varshney", source="bundled")
        >>> len(worm), worm.summary["Generic_GJ"]
        (281, (1031, 1777.0))
    """
    _check_source(source)
    key = dataset_key(name)
    root = cect_root()
    if source == "cect" and root is None:
        raise ModuleNotFoundError(_NO_CECT)
    if source == "cect" or (source == "auto" and root is not None):
        path = _cect_files(root).get(key)
        if path is None:
            raise ValueError(f"cect {_cect_version(root)} has no dataset {name!r}; it has "
                             f"{available_connectomes('cect')}.")  # fmt: skip
        with open(path) as f:
            data = json.load(f)
        types = cect_cell_types(root)
        nodes = tuple(str(n) for n in data["nodes"])
        connections = {}
        for c, matrix in data["connections"].items():
            m = np.asarray(matrix, dtype=float)
            pre, post = np.nonzero(m)
            connections[c] = Synapses(pre.astype(np.int64), post.astype(np.int64), m[pre, post])
        cell_types = tuple(types.get(n, "") for n in nodes)
        return Connectome(name=key, nodes=nodes, cell_types=cell_types,
                          classes=tuple(cell_class(t) for t in cell_types),
                          connections=connections, summary=parse_summary(data["summary"]),
                          source=f"cect {_cect_version(root)}")  # fmt: skip
    short = key
    if short not in BUNDLED:
        raise ValueError(
            f"brainsim bundles the connectomes {list(BUNDLED)}, not {name!r}; for the other "
            f"datasets of cect install it (`pip install --no-deps cect`)."
        )
    return _load_bundled(short)


def _load_bundled(short: str) -> Connectome:
    resource = importlib.resources.files("brainsim.connectome") / BUNDLE_FILE
    with resource.open("rb") as f, np.load(f, allow_pickle=False) as z:
        data = {k: z[k] for k in z.files if k.startswith(short + "/") or k == "cect_version"}
    p = short + "/"
    classes = [str(c) for c in data[p + "classes"]]
    connections = {
        c: Synapses(data[f"{p}{c}/pre"].astype(np.int64), data[f"{p}{c}/post"].astype(np.int64),
                    data[f"{p}{c}/weight"].astype(float))  # fmt: skip
        for c in classes
    }
    summary = {"nodes": int(data[p + "summary_nodes"])}
    for c, nonzero, total in zip(classes, data[p + "summary_nonzero"], data[p + "summary_sum"],
                                 strict=True):  # fmt: skip
        summary[c] = (int(nonzero), float(total))
    cell_types = tuple(str(t) for t in data[p + "cell_types"])
    return Connectome(name=short, nodes=tuple(str(n) for n in data[p + "nodes"]),
                      cell_types=cell_types, classes=tuple(cell_class(t) for t in cell_types),
                      connections=connections, summary=summary,
                      source=f"bundled (cect {data['cect_version']})")  # fmt: skip


def write_bundle(path, names=BUNDLED) -> None:
    """Write the bundled copy (`celegans_connectomes.npz`) from the installed cect."""
    root = cect_root()
    if root is None:
        raise ModuleNotFoundError(_NO_CECT)
    out = {"cect_version": np.array(_cect_version(root))}
    for short in names:
        c = load_connectome(short, source="cect")
        p = short + "/"
        out[p + "nodes"] = np.array(c.nodes)
        out[p + "cell_types"] = np.array(c.cell_types)
        out[p + "classes"] = np.array(list(c.connections))
        out[p + "summary_nodes"] = np.array(c.summary["nodes"])
        out[p + "summary_nonzero"] = np.array([c.summary[k][0] for k in c.connections])
        out[p + "summary_sum"] = np.array([c.summary[k][1] for k in c.connections])
        for k, s in c.connections.items():
            out[f"{p}{k}/pre"] = s.pre.astype(np.int16)
            out[f"{p}{k}/post"] = s.post.astype(np.int16)
            out[f"{p}{k}/weight"] = s.weight.astype(np.float64)
    np.savez_compressed(path, **out)
