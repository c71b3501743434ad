"""The labelled files the spam bench replays (``scripts/build_spam_base.read_posts``): time order, and
rows without a date or an author (``spam_bench.py --site`` takes a site's own files)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from build_spam_base import as_examples, read_posts  # noqa: E402


def test_rows_come_oldest_first_and_an_undated_one_stays_beside_its_neighbour(tmp_path):
    path = tmp_path / "collection.csv"
    path.write_text("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n"
                    "c,carol,2015-05-03T10:00:00,newest,0\n"
                    "x,spammer,,cheap views,1\n"
                    "b,bob,2015-05-02T10:00:00,middle &amp; more<br />,0\n"
                    "a,alice,2015-05-01T10:00:00,oldest,0\n", encoding="utf-8")
    posts = read_posts(path)
    # Sorted as an empty date, the undated spam would come first, learned before any approval.
    assert [post.text for post in posts] == ["oldest", "middle & more", "newest", "cheap views"]
    assert [post.label for post in posts] == [0, 0, 0, 1]


def test_a_file_with_only_content_and_class_is_read_in_its_order_each_row_its_own_author(tmp_path):
    path = tmp_path / "site.csv"
    path.write_text('CONTENT,CLASS\nfirst,0\n"second, with a comma",1\nfirst,0\n', encoding="utf-8")
    posts = read_posts(path)
    assert [(post.text, post.label) for post in posts] == [("first", 0), ("second, with a comma", 1),
                                                            ("first", 0)]
    assert [example.context.first_comment for example in as_examples(posts)] == [True, True, True]


def test_an_author_s_earlier_approved_comments_are_counted(tmp_path):
    path = tmp_path / "site.csv"
    path.write_text("AUTHOR,DATE,CONTENT,CLASS\nann,1,hello,0\nann,2,again,0\nann,3,buy now,1\n",
                    encoding="utf-8")
    contexts = [example.context for example in as_examples(read_posts(path))]
    assert [(c.first_comment, c.author_approved) for c in contexts] == [(True, 0), (False, 1), (False, 2)]
