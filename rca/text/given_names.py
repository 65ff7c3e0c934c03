"""Common given names, so a name written in lower case ("email to john") is checked too.

`rca.text.persons` finds people's names by how they are written: a word capitalised mid-sentence
that the NER model reads as a person. Chat and social-media messages are often written all in
lower case (HWU64: 99 % of utterances), where no word is capitalised, and names reached theme
names ("Email to john", "Mary birthday"). A lower-case word is checked only when it is one of
these names; the NER model must then read it as a person where it is written, title-cased
(`person_words`). A list is needed because the small model calls a title-cased word a person
more often than not on its own: "alarm", "calendar", "weather" and "card" in
experiments/lowercase_names_probe.py.

The 300 most frequent female and the 300 most frequent male given names of the 1990 US Census
(public domain; via the `names` package 0.3.0, files `dist.female.first` and
`dist.male.first`, MIT, by Trey Hunner), lower-cased: 592 names; rarer names are left out
because they are common words more often than names ("song", "lien", "faith", "young" rank
800-2,500). Less the 49 of them that are everyday English words (`EVERYDAY_WORDS`: the names
found in lower case in SCOWL's size-35 list, Debian's `wamerican-small` 2020.12.07,
"american-english-small"): a billing theme written in lower case says "bill", and spaCy reads
"my Bill is wrong" as a person. So a lower-case "mike" or "peter" is not caught either. Also
left out: "max" (the limit: "what is the max I can send"; SCOWL lists only "max."), and month
names (`rca.text.persons.CALENDAR`). English given names only; names of other languages
written in lower case are not checked.
"""

from __future__ import annotations

#: The names SCOWL's size-35 list holds in lower case: everyday words, never checked.
EVERYDAY_WORDS: frozenset[str] = frozenset(
    (  # noqa: SIM905
        "amber angel bill bob brandy carol crystal daisy dawn dean derrick don earl frank gene "
        "glen grace guy harry hazel heather holly jack jay joy ken lance lee maria mark martin "
        "mike misty pearl penny peter ray robin rose rosemary ruby sally sherry sue victor "
        "viola violet wade warren "
    ).split()
)

#: The 300 most frequent female and male given names of the 1990 US Census, lower-cased.
CENSUS_NAMES: frozenset[str] = frozenset(
    (  # noqa: SIM905
        "aaron adam adrian agnes alan albert alberto alex alexander alfred alfredo alice alicia "
        "allan allen allison alma alvin amanda amber amy ana andre andrea andrew andy angel "
        "angela anita ann anna anne annette annie anthony antonio april arlene armando arnold "
        "arthur ashley audrey barbara barry beatrice becky ben benjamin bernard bernice bertha "
        "bessie beth betty beverly bill billie billy bob bobbie bobby bonnie brad bradley "
        "brandon brandy brenda brent brett brian brittany bruce bryan byron calvin carl carla "
        "carlos carmen carol carole caroline carolyn carrie casey cassandra catherine cathy "
        "cecil chad charlene charles charlie charlotte cheryl chester chris christian christina "
        "christine christopher christy cindy claire clara clarence claude claudia clayton "
        "clifford clifton clinton clyde cody colleen connie constance corey cory courtney craig "
        "crystal curtis cynthia daisy dale dan dana daniel danielle danny darlene darrell "
        "darren darryl daryl dave david dawn dean deanna debbie deborah debra delores denise "
        "dennis derek derrick diana diane dianne dolores don donald donna dora doris dorothy "
        "douglas duane dustin dwayne dwight earl eddie edgar edith edna eduardo edward edwin "
        "eileen elaine eleanor elizabeth ella ellen elmer elsie emily emma enrique eric erica "
        "erik erika erin ernest esther ethel eugene eva evelyn everett felicia felix fernando "
        "florence floyd frances francis francisco frank franklin fred freddie frederick gabriel "
        "gail gary gene george georgia gerald geraldine gertrude gilbert gina gladys glen "
        "glenda glenn gloria gordon grace greg gregory guy gwendolyn harold harry harvey hazel "
        "heather hector heidi helen henry herbert herman hilda holly howard hugh ian ida irene "
        "irma isaac ivan jack jackie jacob jacqueline jaime james jamie jane janet janice jared "
        "jason javier jay jean jeanette jeanne jeff jeffery jeffrey jennie jennifer jenny "
        "jeremy jerome jerry jesse jessica jessie jesus jill jim jimmie jimmy jo joan joann "
        "joanne joe joel john johnnie johnny jon jonathan jordan jorge jose joseph josephine "
        "joshua joy joyce juan juanita judith judy julia julian julie julio june justin karen "
        "karl katherine kathleen kathryn kathy katie katrina kay keith kelly ken kenneth kent "
        "kevin kim kimberly kirk kristen kristin kristina kurt kyle lance larry laura lauren "
        "laurie lawrence leah lee lena leo leon leona leonard leroy leslie lester lewis lillian "
        "lillie linda lisa lloyd lois lonnie loretta lori lorraine louis louise lucille lucy "
        "luis lydia lynn mabel mae manuel marc marcia marcus margaret margie maria marian marie "
        "marilyn mario marion marjorie mark marlene marsha marshall martha martin marvin mary "
        "mathew matthew mattie maureen maurice max maxine megan melanie melinda melissa melvin "
        "michael micheal michele michelle miguel mike mildred milton minnie miriam misty "
        "mitchell monica morris myrtle nancy naomi natalie nathan nathaniel neil nellie nelson "
        "nicholas nicole nina nora norma norman olga oscar pamela patricia patrick patsy paul "
        "paula pauline pearl pedro peggy penny perry peter philip phillip phyllis priscilla "
        "rachel rafael ralph ramon ramona randall randy raul ray raymond rebecca regina "
        "reginald rene renee rhonda ricardo richard rick ricky rita robert roberta roberto "
        "robin rodney roger roland ron ronald ronnie rosa rose rosemary ross roy ruben ruby "
        "russell ruth ryan sally salvador sam samantha samuel sandra sara sarah scott sean "
        "sergio seth shane shannon sharon shawn sheila shelly sherri sherry shirley sidney "
        "sonia stacey stacy stanley stella stephanie stephen steve steven sue susan suzanne "
        "sylvia tamara tammy tanya tara ted teresa terrance terrence terri terry thelma "
        "theodore theresa thomas tiffany tim timothy tina todd tom tommy toni tony tonya tracey "
        "tracy travis troy tyler tyrone valerie vanessa velma vera vernon veronica vicki vickie "
        "victor victoria vincent viola violet virgil virginia vivian wade wallace walter wanda "
        "warren wayne wendy wesley willard william willie wilma yolanda yvonne zachary "
    ).split()
)

GIVEN_NAMES: frozenset[str] = CENSUS_NAMES - EVERYDAY_WORDS - {"max"}
