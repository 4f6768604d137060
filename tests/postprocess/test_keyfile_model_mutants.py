"""models.postprocess.keyfile: an integrity record for another file name is refused, whatever
the order of the two names."""

import numpy as np
import pytest

from models.postprocess.keyfile import KeyFileError, read_key, record_path, write_key


@pytest.mark.parametrize("other", ["a.key", "z.key"])
def test_record_naming_another_file_is_refused(tmp_path, other):
    path = tmp_path / "satellite.key"
    write_key(path, np.ones(64, dtype=np.uint8))
    record = record_path(path)
    record.write_text(record.read_text(encoding="ascii").replace("satellite.key", other),
                      encoding="ascii")
    with pytest.raises(KeyFileError, match=r"is not a sha256sum line for 'satellite\.key'"):
        read_key(path)
