from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from breather.rules.classify import (
    LEXICON_EVIDENCE_BELOW,
    MAX_CHARS,
    Verdict,
    classify,
    clear_cache,
    lexical_view,
    model_flag_supported,
    screen,
)
from breather.rules.lexicon import compile_phrase, load_lexicon
from breather.rules.tokenize import latin_lookalikes, normalise, sentence_starts, tokenize, words


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I can't do this anymore, I want to kill myself tonight", "self_harm"),
        ("I have a plan and the pills are ready, this is goodbye", "self_harm"),
        ("Wanting to die. I have never wanted to die more than right now", "self_harm"),
        ("been restricting to 500 cals a day, ugw is 45kg", "eating_disorder"),
        ("I will kill you and everyone you love", "violence"),
        ("you are a stupid worthless bitch", "harassment"),
        ("relapsed on heroin again after three weeks, withdrawals are hell", "substance"),
        ("third fasting day done, two more kilos to my goal weight", "eating_disorder"),
        ("weigh in tomorrow so it is low cal everything until then", "eating_disorder"),
        ("keep talking and I am going to choke you", "violence"),
        ("I hope they all get raped for what they did", "violence"),
        ("staying under 500 kcal a day until the weigh in", "eating_disorder"),
    ],
)
def test_distressing_posts_are_flagged_with_evidence(text: str, category: str) -> None:
    verdict = classify(text)
    assert category in verdict.flagged
    assert verdict.evidence[category], "a flag must say which words caused it"
    assert all(phrase in " ".join(tokenize(text)) for phrase in verdict.evidence[category])


@pytest.mark.parametrize(
    "text",
    [
        "this bread is killing it",
        "one year clean today and grateful",
        "Let me be clear: I don't hate women.",
        "We went for a walk on the dyke just by the water.",
        "Fucking hell, what a day.",
        "Took the rifle to the range, great day of shooting paper targets",
        "Reminder: the crisis line is there for you, you are not alone",
        "Nice weather for a walk in the park",
        "we binged the whole series on netflix this weekend",
        "that punchline had the whole room crying with laughter",
        "the soup has 300 kcal per bowl",
        "this recipe is 450 kcal per serving and ready in 20 minutes",
        "Honestly, applying without a cover letter is career suicide in this industry, and everyone in hiring knows it",
    ],
)
def test_harmless_uses_are_not_flagged(text: str) -> None:
    assert classify(text).flagged == ()


@pytest.mark.parametrize(
    "text",
    [
        "Ed Sheeran's new album is out today and I love it",
        "My son is in special ed and his teacher is wonderful",
        "Can a Gen Ed teacher cover an ESL class?",
        "We teach sex-ed in year nine and phys ed all year",
    ],
)
def test_ed_as_schooling_or_a_name_is_not_an_eating_disorder(text: str) -> None:
    assert "eating_disorder" not in classify(text).flagged


@pytest.mark.parametrize(
    "text",
    ["My ED is getting worse, I skipped every meal today", "Ed says I don't deserve dinner tonight"],
)
def test_ed_as_the_illness_still_warns(text: str) -> None:
    """Recovery writing names the illness "ED" or personifies it as "Ed"; only schooling and full names are spared."""
    assert "eating_disorder" in classify(text).flagged


@pytest.mark.parametrize(
    "text", ["How do necromancers raise the dead in this game?", "Police report: driver dead after motorway crash"]
)
def test_a_lone_weak_word_does_not_make_a_short_post_self_harm(text: str) -> None:
    """A lone "dead", "die", "death" or "my life" (weights below LEXICON_SUPPORT_WEIGHT) cannot back a low score."""
    verdict = classify(text)
    assert "self_harm" not in verdict.flagged
    assert verdict.scores["self_harm"] < LEXICON_EVIDENCE_BELOW["self_harm"], "the gate, not the score, decides here"


def test_a_short_post_about_food_needs_an_eating_disorder_phrase() -> None:
    """The model scores "food" posts near eating_disorder's threshold; below LEXICON_EVIDENCE_BELOW it needs more."""
    verdict = classify("We serve really bad food, sorry")
    assert "eating_disorder" not in verdict.flagged
    assert verdict.scores["eating_disorder"] < LEXICON_EVIDENCE_BELOW["eating_disorder"]


def test_a_post_in_another_language_is_not_judged_on_english_lookalikes() -> None:
    german = "Der Verein hat wohl gemerkt, dass die Fans nicht mehr kommen, und die Preise sind noch immer zu hoch."
    verdict = classify(german)
    assert verdict.flagged == ()
    assert verdict.reason == "likely_not_english"
    assert classify(german, keywords=["verein"]).flagged == ("custom",), "the person's own topics are any language"


def test_a_mostly_english_post_with_a_foreign_phrase_is_still_read() -> None:
    assert "self_harm" in classify("I want to die tonight, que es esto").flagged


def test_context_marks_support_recovery_and_news() -> None:
    assert "recovery" in classify("one year clean today").context
    assert "support" in classify("you are not alone, please reach out to a crisis line").context
    assert "news" in classify("Police said the suspect was charged with assault").context


def test_negation_cancels_a_phrase() -> None:
    assert "self_harm" in classify("I am going to kill myself").flagged
    for level in ("low", "medium", "high"):
        assert "self_harm" not in classify("I am not going to kill myself, I promise", sensitivity=level).flagged
        assert "self_harm" not in classify("I would never hurt myself", sensitivity=level).flagged
        assert "self_harm" not in classify("I'm not... going to hurt myself", sensitivity=level).flagged  # a pause


@pytest.mark.parametrize(
    ("post", "category"),
    [
        ("I'm not okay. I cut myself again last night.", "self_harm"),
        ("I don't know. I want to die.", "self_harm"),
        ("I didn't sleep. I want to die.", "self_harm"),
        ("Will I stop? Never. I cut myself again tonight.", "self_harm"),
        ("I'm not hungry. I purge after every meal.", "eating_disorder"),
        ("Did I stay clean? No. Relapsed on heroin again last night.", "substance"),
    ],
)
def test_a_negation_ends_with_its_sentence(post: str, category: str) -> None:
    """A negation reached three words on, across the full stop: "I'm not okay. I cut myself again" read as a denial
    (the property test below found "Never." before a sentence; these were then written in other words)."""
    assert category in classify(post).flagged


@pytest.mark.parametrize(
    ("post", "category"),
    [
        ("I want to k*ll myself", "self_harm"),
        ("su*cide is on my mind every day", "self_harm"),
        ("thinking of sewer slide", "self_harm"),
        ("f*ck you, you stupid b*tch", "harassment"),
    ],
)
def test_words_written_past_a_filter_are_read(post: str, category: str) -> None:
    """People hide letters behind asterisks, or say a word aloud, to get past a platform's filter; Breather reads
    what they meant."""
    assert category in classify(post).flagged


def test_only_a_word_that_fits_is_restored_from_asterisks() -> None:
    assert normalise("I want to k*ll myself") == "i want to kill myself"
    assert normalise("sh*t happens") == "shit happens"
    assert normalise("s**t happens") == "s**t happens"  # shit or slut: two fit, so neither
    assert normalise("This is **important**, *really*") == "this is **important**, *really*"  # emphasis, not hiding
    assert normalise("2*3 = 6 and a*b") == "2*3 = 6 and a*b"
    assert normalise("d*y one") == "d*y one"  # "day"? "dry"? not a word Breather restores


def test_sentences_are_counted_in_the_posts_own_words() -> None:
    """Where sentences begin, in the tokens the lexicon reads; a post whose sentences' words do not add up gets none
    (so a negation is never cut short by a miscount)."""
    text = normalise("I'm not okay. I can't... do this! Why? New line\nhere; done")
    tokens = words(text)
    starts = sentence_starts(text, len(tokens))
    assert [tokens[at] for at in sorted(starts)] == ["i", "why", "new", "here", "done"]
    assert sentence_starts(text, len(tokens) + 1) == frozenset()


@pytest.mark.parametrize(
    ("post", "category"),
    [
        # a user test found these unflagged: "can't" negated the phrase, though it belongs to "stop"
        ("I can't stop cutting myself", "self_harm"),
        ("I cannot stop hurting myself", "self_harm"),
        ("I can't stop starving myself", "eating_disorder"),
        ("I keep cutting my arms", "self_harm"),
        ("I took a bunch of pills hoping not to wake up", "self_harm"),
        ("I can't wait to kill myself", "self_harm"),
        # written afterwards, in other words
        ("I cant stop hurting myself", "self_harm"),
        ("I couldn't resist cutting again last night", "self_harm"),
        ("I never stop thinking about ending my life", "self_harm"),
        ("I won't stop until I'm thin enough, skipping meals all week", "eating_disorder"),
        # a user test: "can't wait" is eagerness, and the second user test found these unflagged
        ("honestly I can't wait to die", "self_harm"),
        ("I cannot wait to be dead", "self_harm"),
        ("I can't wait until I die, everything hurts", "self_harm"),
    ],
)
def test_a_negation_that_belongs_to_stop_or_wait_does_not_cancel_the_phrase(post: str, category: str) -> None:
    assert category in classify(post).flagged


def test_life_admin_is_not_being_done_with_life() -> None:
    assert classify("I am done with life admin for today").flagged == ()


@pytest.mark.parametrize(
    "post",
    [
        "I can't stop laughing at this video",
        "I cut my arm on a fence yesterday",
        "I cut my leg in a biking accident",
        "this movie made me want to die laughing",
        "I literally want to die of embarrassment",
        "I can't wait to see the new film, it's to die for",
    ],
)
def test_everyday_cuts_cant_stops_and_figures_of_speech_are_not_self_harm(post: str) -> None:
    assert classify(post).flagged == ()


@pytest.mark.parametrize(
    ("with_context", "without"),
    [
        ("Police said he tried to kill himself last year", "My mate said he tried to kill himself last year"),
        ("he tried to kill himself last year, reporter says", "he tried to kill himself last year, my mate says"),
        ("I used to cut myself, now I am in recovery", "I used to cut myself, now I am in my room"),
        ("I used to cut myself, you are not alone", "I used to cut myself, you are not at home"),
    ],
)
def test_news_recovery_and_support_contexts_lower_a_self_harm_score(with_context: str, without: str) -> None:
    assert classify(with_context).context
    assert not classify(without).context
    assert classify(with_context).scores["self_harm"] < classify(without).scores["self_harm"]


@pytest.mark.parametrize(
    ("category", "text"),
    [
        # the self-harm posts missed out of fold on dev: "I want to end it with ...", "No one will remember me"
        ("self_harm", "Honestly no one would miss me if I was gone."),
        ("self_harm", "I want to end it tonight, I'm so tired."),
        ("self_harm", "Nobody would notice if I just stopped being here."),
        # the lexicon had "kill any*" but no other weapon verb, and no third person
        ("violence", "I'll protect my family: I will shoot anyone who comes near them."),
        ("violence", "I hope someone shoots him."),
        ("violence", "Thanks to you I know who to kill first."),
    ],
)
def test_phrasings_the_lexicon_once_missed_are_flagged_with_their_evidence(category: str, text: str) -> None:
    verdict = classify(text)
    assert category in verdict.flagged
    assert verdict.evidence[category]
    assert verdict.needs_crisis_line == (category == "self_harm")


@pytest.mark.parametrize(
    "text",
    [
        # a user test by someone who has these nights: none of these was a warning ("ending" was not "end", and the
        # "no" of "no point in living" cancelled the phrase)
        "I've been thinking about ending it all",
        "I keep thinking of ending it all tonight",
        "what is even the point of living anymore",
        "no point in living",
        "Some nights I think about ending it",
        # found unflagged by probing the classifier by hand (2026-11-30)
        "i just want it all to stop",
        "I am so done with life",
        "I feel like a burden to everyone",
    ],
)
def test_common_ways_of_saying_it_are_self_harm_warnings(text: str) -> None:
    verdict = classify(text)
    assert "self_harm" in verdict.flagged
    assert verdict.needs_crisis_line


def test_a_long_narrative_without_a_telling_phrase_is_flagged_on_the_model_alone() -> None:
    """The self-harm posts the lexicon misses are long first-person accounts; 25+ distinct words let the model flag
    them below the score at which short posts need a lexicon phrase."""
    text = (
        "Sat in my old car in the garage for three hours last night with the engine running and the door shut. "
        "It did not work and I am still here. I keep thinking about doing it properly next time, maybe this "
        "weekend when the house is empty."
    )
    assert not lexical_view(text).evidence.get("self_harm")
    # long enough that even a score below the short posts' lexicon gate would flag it
    below_the_gate = LEXICON_EVIDENCE_BELOW["self_harm"] - 0.01
    assert model_flag_supported("self_harm", below_the_gate, False, len(set(tokenize(text))))
    assert "self_harm" in classify(text).flagged
    shown = classify(text).evidence["self_harm"]
    # "why this was flagged" points at words of the post a reader can see the point of, not "here" or "am"
    assert shown and all(gram in " ".join(tokenize(text)) for gram in shown)
    assert classify(text).worded == ("self_harm",), "the reader is told the flag rests on the wording as a whole"
    says_nothing = {"here", "still", "time", "the", "and"}
    assert all(any(len(word) > 2 and word not in says_nothing for word in gram.split()) for gram in shown)


def test_short_posts_without_telling_words_are_not_flagged_at_recall_first_thresholds() -> None:
    for text in ("nothing to see", "Goodbye x Young Dolph featuring Trinidad James", "I have never seen a yellow duck"):
        assert classify(text, sensitivity="high").flagged == (), text


def test_disguised_spellings_are_undone() -> None:
    assert "harassment" in classify("I h4te you, you stupid b1tch").flagged
    assert "self_harm" in classify("i w a n t to k i l l myself").flagged
    assert "self_harm" in classify("ｉ ｗａｎｔ ｔｏ ｄｉｅ, I am so suicidal").flagged
    assert "self_harm" in classify("I&#39;m suicidal &amp; want to end my life").flagged


def test_off_flags_nothing_of_the_category() -> None:
    text = "I hate women."
    assert "harassment" in classify(text).flagged
    assert classify(text, sensitivity="off").flagged == ()
    assert classify(text, sensitivity={"harassment": "off"}).flagged == ()


HELD_OUT_SENTENCES = Path(__file__).parent / "data" / "own_sentences_heldout.csv"


def test_each_level_flags_more_than_the_one_below() -> None:
    """A parent who sets a category to low gets fewer warnings than at medium, and high more: over the project's
    held-out sentences each level flags everything the one below flags, and more (by the thresholds chosen on dev).
    "I hate women." could not show it: harassment's three thresholds are one."""
    import csv

    with HELD_OUT_SENTENCES.open(encoding="utf-8", newline="") as source:
        texts = [row["text"] for row in csv.DictReader(source)]
    assert len(texts) > 300
    flags = {
        level: {
            (index, category)
            for index, text in enumerate(texts)
            for category in classify(text, sensitivity=level).flagged
        }
        for level in ("low", "medium", "high")
    }
    assert flags["low"] < flags["medium"] < flags["high"], {level: len(found) for level, found in flags.items()}


def test_with_every_category_off_your_own_topics_are_still_flagged() -> None:
    """`breather classify --sensitivity off --keyword ...` said no post was about the person's topic."""
    assert classify("the season finale was great", keywords=["season finale"], sensitivity="off").flagged == ("custom",)
    topical = classify("I hate the season finale", keywords={"tv": ["season finale"]}, sensitivity="off")
    assert topical.flagged == ("keyword:tv",)


def test_keywords_become_their_own_category() -> None:
    verdict = classify("The election results are in tonight", keywords=["election*"])
    assert verdict.flagged == ("custom",)
    assert verdict.evidence["custom"] == ("election*",)
    topical = classify("Spoilers for the season finale ahead", keywords={"spoilers": ["spoiler*", "season finale"]})
    assert topical.flagged == ("keyword:spoilers",)
    assert classify("nothing to see", keywords=["election"]).flagged == ()


def test_verdict_is_json_serialisable() -> None:
    verdict = classify("I want to die, I am so suicidal")
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["flagged"] == ["self_harm"]
    keys = {"flagged", "scores", "evidence", "context", "reason", "truncated", "scored_chars", "worded"}
    assert set(data) == keys
    assert data["worded"] == [], "flagged on a phrase the lexicon knows"
    assert verdict.needs_crisis_line


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("😀😀🎉", "no_words"),
        ("!!! ??? ...", "no_words"),
        (b"\x00\x01\x02\xff binary", "binary"),
        ("\x01\x02\x03\x04\x05\x06\x07\x08 x", "binary"),
        ("Ich bin heute sehr müde und gehe früh ins Bett, morgen wird es besser", "likely_not_english"),
        ("今日はとても疲れたので早く寝ます", "unsupported_script"),
        ("Сегодня был очень длинный день на работе", "unsupported_script"),
        # a few words of another language (a review: these read as judged and harmless, reason null)
        ("je veux mourir", "likely_not_english"),
        ("Ich will nicht mehr leben, ich will sterben", "likely_not_english"),
        ("Quiero morir, ya no puedo más con esta vida", "likely_not_english"),
    ],
)
def test_input_it_cannot_judge_gets_a_reason(text: str | bytes, reason: str) -> None:
    verdict = classify(text)
    assert verdict.flagged == ()
    assert verdict.reason == reason


def test_huge_posts_are_scored_on_the_first_10k_only() -> None:
    text = "lovely day. " * 2000 + "I want to kill myself"
    verdict = classify(text)
    assert verdict.truncated
    assert verdict.scored_chars == MAX_CHARS
    assert verdict.flagged == ()
    assert "self_harm" in classify("I want to kill myself. " + "lovely day. " * 2000).flagged


def test_mixed_scripts_still_judge_the_english() -> None:
    verdict = classify("今日は I want to kill myself Сегодня")
    assert "self_harm" in verdict.flagged


@pytest.mark.parametrize("english", ["Les Paul guitar", "de facto rules", "El Paso tonight"])
def test_english_with_a_foreign_word_in_it_is_not_called_another_language(english: str) -> None:
    assert classify(english).reason is None


@pytest.mark.parametrize(
    ("disguised", "category"),
    [
        ("I want to k\u0456ll myself", "self_harm"),  # Cyrillic i
        ("i want to di\u0435", "self_harm"),  # Cyrillic e
        ("I will k\u0456ll you", "violence"),
        ("I want to \u03baill myself", "self_harm"),  # Greek kappa
    ],
)
def test_a_look_alike_cyrillic_or_greek_letter_does_not_hide_a_post(disguised: str, category: str) -> None:
    """A review: one Cyrillic letter inside an English word made "kill" a word nobody knows, and the post passed."""
    assert category in classify(disguised).flagged
    assert screen(disguised)


def test_russian_and_greek_words_are_left_as_they_are() -> None:
    assert latin_lookalikes("Я хочу умереть, καλημέρα") == "Я хочу умереть, καλημέρα"
    assert latin_lookalikes("k\u0456ll") == "kill"


def test_screen_passes_every_post_that_classify_flags() -> None:
    posts = [
        "I want to kill myself",
        "ugw 45",
        "you dumbass",
        "I h4te you",
        "k i l l myself",
        "rehab again",
        "nice weather",
        "happy birthday to my sister",
    ]
    for post in posts:
        if classify(post).flagged:
            assert screen(post), post
    assert not screen("happy birthday to my sister")
    assert not screen("nice weather")
    assert screen("the election results", keywords=["election"])


def test_a_post_seen_again_is_not_scored_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A feed reloaded costs a cache lookup per post (the warm page's budget), with the same verdict."""
    import breather.rules.classify as classifier

    clear_cache()
    scored: list[str] = []
    real_score = classifier._score
    monkeypatch.setattr(classifier, "_score", lambda text, *a, **k: scored.append(text) or real_score(text, *a, **k))
    first = classify("I want to die")
    assert classify("I want to die") == first
    assert len(scored) == 1


def test_bad_phrases_in_a_lexicon_are_located(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown word class '@nope'"):
        compile_phrase("kill @nope", {})
    with pytest.raises(ValueError, match="cannot come first"):
        compile_phrase("~2 kill", {})
    broken = tmp_path / "lexicon.toml"
    broken.write_text('[classes]\n[self_harm]\n"kill ~x me" = 1\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"lexicon.toml: \[self_harm\] phrase 'kill ~x me'"):
        load_lexicon(broken)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_verdict(text: str) -> None:
    verdict = classify(text)
    assert isinstance(verdict, Verdict)
    json.dumps(verdict.to_dict())
    assert set(verdict.flagged) <= set(verdict.scores)
    assert all(0 < score <= 1 for score in verdict.scores.values())
    if verdict.reason is not None:
        assert verdict.flagged == ()


DISTRESSING_SENTENCES = {
    "I want to kill myself tonight.": "self_harm",
    "I'm going to stab you when you walk home.": "violence",
    "Shut up you worthless stupid bitch.": "harassment",
    "Relapsed on heroin again last night.": "substance",
}


# Any text but quotation marks: a threat in quotes is read as quoted (counter-speech), by design.
UNQUOTED_TEXT = st.text(alphabet=st.characters(exclude_characters='"\u201c\u201d'), max_size=200)


@settings(max_examples=300, deadline=None)
@given(UNQUOTED_TEXT, st.sampled_from(sorted(DISTRESSING_SENTENCES)), UNQUOTED_TEXT)
def test_a_distressing_sentence_amid_any_text_is_flagged_or_the_verdict_says_why_not(
    before: str, sentence: str, after: str
) -> None:
    """Any text (the property above) rarely flags anything; here a warning is in every post, on a line of its own, so
    the verdict's promises are checked where they matter: a flagged category has its score and evidence, and a
    verdict that cannot judge (a reason) flags nothing and says so instead of missing the sentence silently. (It
    found a "never" ending the line before negating the sentence: a negation now ends with its sentence.)"""
    verdict = classify(f"{before}\n{sentence}\n{after}")
    json.dumps(verdict.to_dict())
    assert set(verdict.flagged) <= set(verdict.scores)
    if verdict.reason is not None:
        assert verdict.flagged == ()
    else:
        category = DISTRESSING_SENTENCES[sentence]
        assert category in verdict.flagged, (verdict.scores, verdict.context)
        assert verdict.evidence.get(category)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_a_verdict(data: bytes) -> None:
    verdict = classify(data)
    json.dumps(verdict.to_dict())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(categories=["So", "Sk", "Zs", "Po", "Cf"]), max_size=60))
def test_symbols_and_emoji_only_are_never_flagged(text: str) -> None:
    # a compatibility symbol that stands for letters is a word to the tokenizer ("㎉" is "kcal"), not a symbol
    assume(not any(character.isalpha() for character in unicodedata.normalize("NFKC", text)))
    verdict = classify(text)
    assert verdict.flagged == ()


@pytest.mark.parametrize(
    "threat",
    [
        "When those people complain I just want to stab them.",
        "I think those refugees should all be shot.",
        "i w4nt to k1ll every last one of those immigrants",
    ],
)
def test_threats_phrased_as_opinions_negations_or_misspellings_are_violence(threat: str) -> None:
    """The model learns these from HateCheck's restated threats (labelled violence since labels version 2).
    "We must not let a single one of those people live" is no longer here: with HateCheck split by template, the
    model had known it only from its template (docs/classifier.md lists it among the known misses)."""
    assert "violence" in classify(threat).flagged


@pytest.mark.parametrize(
    "threat",
    [
        "I will find you and I will hurt you.",
        "Watch your back, you won't see it coming.",
        "I'll make you bleed.",
        "Next time I see him I'm going to break his legs.",
        "I swear I will put you in the hospital.",
        "I'll burn your house down with you in it.",
        "I hope your whole family dies in a fire.",
        "I'm going to strangle her with my bare hands.",
        "Say that again and I'll break your jaw.",
    ],
)
def test_a_threat_to_one_person_is_violence(threat: str) -> None:
    """The labelled sets teach threats to groups; threats to one person ("I'll make you bleed") come from the
    lexicon's own phrases (rules/data/lexicon.toml), and the warning names them."""
    verdict = classify(threat)
    assert "violence" in verdict.flagged
    assert verdict.evidence["violence"]


@pytest.mark.parametrize(
    "text",
    [
        "That workout is going to hurt tomorrow.",
        "I will find you a better recipe.",
        "I'm going to beat you at chess tonight.",
        "Watch your step, the floor is wet.",
        "I'll cut you a slice of cake.",
        "Break a leg at the audition tonight!",
        "He broke his arm falling off his bike.",
        "I'm going to shoot some photos at the park later.",
        "We're gonna shoot the music video tomorrow.",
        "I'll shoot you an email tonight.",
    ],
)
def test_the_same_words_in_everyday_sentences_are_not_threats(text: str) -> None:
    assert "violence" not in classify(text).flagged


@pytest.mark.parametrize(
    "text",
    [
        "Threatening to kill people online is a crime.",
        "He was sentenced for threatening to shoot his neighbours.",
        'I reported a post that said "I will kill every one of you tomorrow" and so should you.',
        "Anyone who writes \u201cI will kill every one of you tomorrow\u201d deserves a ban, not an audience.",
    ],
)
def test_condemning_violence_is_not_a_threat(text: str) -> None:
    """Quoting a threat to condemn it is not making one: violence reads the post without its quoted passage."""
    assert "violence" not in classify(text).flagged


@pytest.mark.parametrize(
    "text",
    [
        "I would never hurt anyone.",
        "Nobody should ever be killed for who they are.",
        "No child deserves to be beaten, whatever their parents believe.",
        "We cannot let our neighbours be attacked in the street.",
    ],
)
def test_harm_named_only_to_rule_it_out_is_not_a_threat(text: str) -> None:
    """Harm ruled out ("should never be killed", "no one deserves to be hurt") reads as counter-speech, which lowers
    violence and harassment (rules/data/lexicon.toml), as it does for quoted threats."""
    verdict = classify(text)
    assert "counter_speech" in verdict.context
    assert "violence" not in verdict.flagged


@pytest.mark.parametrize("threat", ["They don't deserve to live.", "No, they should all be killed."])
def test_a_threat_after_a_negation_word_is_still_a_threat(threat: str) -> None:
    """The ruling-out phrases need the harm itself to be ruled out: "don't deserve to live" and a "No," that answers
    someone else keep their violence."""
    verdict = classify(threat)
    assert "counter_speech" not in verdict.context
    assert "violence" in verdict.flagged


def test_quoting_an_insult_to_object_to_it_is_not_harassment() -> None:
    """A quoted passage may lower a score, never raise it as the writer's own words would (the Davidson set labels
    quote-tweets of insults offensive, which had taught the model that a quoted insult counts in full)."""
    insult = "you are a worthless pathetic loser"
    assert "harassment" not in classify(f'Posts like "{insult}" get removed here, and so will you.').flagged
    assert "harassment" in classify(f"{insult.capitalize()} and everyone knows it.").flagged
    assert "harassment" in classify(f'"{insult}" lol').flagged


def test_a_threat_is_still_flagged_alone_or_as_a_quote_tweet() -> None:
    """A post that is mostly the quote (a short reply under it) is read whole: nothing says how it is meant."""
    assert "violence" in classify("I will kill every one of you tomorrow.").flagged
    assert "violence" in classify('"I will kill every one of you tomorrow" lol').flagged


def test_the_models_evidence_reads_as_a_stretch_of_the_post() -> None:
    """A user test read "live and", "you live", "will find" as the reason for a threat's warning."""
    verdict = classify("I will find where you live and hurt you")
    assert "violence" in verdict.flagged
    assert verdict.evidence["violence"] == ("will find where you live",)
    split = classify("I want to end it all tonight, nobody would notice.")
    assert all(phrase in "i want to end it all tonight, nobody would notice." for phrase in split.evidence["violence"])
