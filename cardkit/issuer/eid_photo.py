"""The placeholder face of the ID application's DG2: a small real JPEG, drawn with Pillow.

:data:`PLACEHOLDER_FACE_JPEG` is what :func:`render_placeholder_face` produced (Pillow 13, libjpeg
quality 70), kept here so data preparation needs no Pillow: ``prepare_eid`` puts it in DG2 when
the holder has no photo. :func:`render_placeholder_face` (needs the ``image`` extra) draws it again —
the same picture, byte-identical on the same Pillow/libjpeg — for tools that want another size.
"""

from __future__ import annotations

import base64
import io

__all__ = ["PLACEHOLDER_FACE_HEIGHT", "PLACEHOLDER_FACE_JPEG", "PLACEHOLDER_FACE_WIDTH", "render_placeholder_face"]

PLACEHOLDER_FACE_WIDTH = 240
PLACEHOLDER_FACE_HEIGHT = 320


def render_placeholder_face(width: int = PLACEHOLDER_FACE_WIDTH, height: int = PLACEHOLDER_FACE_HEIGHT,
                            quality: int = 70) -> bytes:
    """A frontal cartoon face as JPEG bytes (deterministic: no randomness, no clock).

    Raises:
        ModuleNotFoundError: Pillow is not installed (``pip install cardkit[image]``).
    """
    from PIL import Image, ImageDraw, ImageFilter

    img = Image.new("RGB", (width, height), (214, 226, 240))
    d = ImageDraw.Draw(img)
    w, h = width, height
    d.ellipse((w * 0.10, h * 0.72, w * 0.90, h * 1.25), fill=(52, 70, 110))  # shoulders
    d.rectangle((w * 0.40, h * 0.58, w * 0.60, h * 0.78), fill=(230, 190, 160))  # neck
    d.ellipse((w * 0.24, h * 0.16, w * 0.76, h * 0.68), fill=(236, 198, 170))  # face
    d.chord((w * 0.22, h * 0.10, w * 0.78, h * 0.50), 180, 360, fill=(40, 32, 28))  # hair
    for cx in (0.40, 0.60):  # eyes and brows
        d.ellipse((w * (cx - 0.05), h * 0.38, w * (cx + 0.05), h * 0.43), fill=(255, 255, 255))
        d.ellipse((w * (cx - 0.022), h * 0.385, w * (cx + 0.022), h * 0.425), fill=(50, 35, 25))
        d.line((w * (cx - 0.06), h * 0.35, w * (cx + 0.06), h * 0.345), fill=(40, 32, 28), width=3)
    d.line((w * 0.50, h * 0.43, w * 0.48, h * 0.51, w * 0.52, h * 0.51), fill=(190, 140, 120), width=2)  # nose
    d.arc((w * 0.40, h * 0.52, w * 0.60, h * 0.60), 20, 160, fill=(170, 80, 80), width=3)  # mouth
    img = img.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


PLACEHOLDER_FACE_JPEG = base64.b64decode("""
/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7
Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7
Ozs7Ozs7Ozv/wAARCAFAAPADASIAAhEBAxEB/8QAHAABAAEFAQEAAAAAAAAAAAAAAAQBAgMFBwYI/8QAPxAAAgEDAQQHBAYJBAMA
AAAAAAECAwQFEQYSITEHFkFRYXGTExQyVSIzVJKi0RUjNUNygbHh8EJikcFSc6H/xAAZAQEAAwEBAAAAAAAAAAAAAAAAAQIDBAX/
xAAhEQEAAwABBAMBAQAAAAAAAAAAAQIRAwQSMVEUISJBMv/aAAwDAQACEQMRAD8A6aADdiAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
AAAAAAAAAAAAAAAAAAAAAAAAA5AAY/eKC/fU/vIe8UH++p/eQSyAcwEAAAAAAAAAAAAAAAAAAAAAAAAAAAAGrzm0WP2ftvbXtZRl
JPcguMpMJbKc404uU5KMVzbZ5bM9IeExcZwpVveq8eChT5a+ZzfaLbnKZ/eoufsLVvhSh292r7TzRlN/TSKe3tsn0pZi7k1ZQp2k
NdVot6R56rtPnK1SU5ZO41m9WlNpGqBSZmV8iGV3Nw3q69Tj/uYVzcJ6qvU4f7mYgQltaW0+co1Izjk7jWD1Sc20ehxnSlmLSSV7
Cndw11eq3ZHiQTEzCMiXbcN0h4TKRhCrW91ry4OFTlr5nqYTjUipQkpRfJpnzSel2d25ymA3aKn7e1T40p9nfo+wvF/ak09O5g1e
D2ix+0Ft7ayrKUopb8HwlFm0NWYAAgAAAAAAAAAAAAAAAAAIOYylvhsZWvrmWkKcezm32IJQNrNpaOzmKlX1hK5lwpU2/iZxPMZm
8zl9K7vajlOXJdkV3Irmszd5zI1Lu7qOTk/orsiuxI15ha2tq1wABVYAAAAAAAAAAE/D5m8wd9G7sqjjOPNdkl3M7ZsntLR2jxUa
+sI3MeFWmn8LOCGwwuZu8Hkad3aVHFxf0l2SXamWrbFbV19EAg4fKW+ZxlG+tpawqR7eafaicbsQABAAAAAAAAAAAAAAHIOk3aB3
2VWNoVH7G2+PR8JS/t+Z1LMZCOLxNzeya/VU21q9NX2I+eru5qXl3Vuar1nVm5SfizO8/wAaUj+sIAMmoAAAAAAAAAAAAAAAD3PR
ltA7HKvG16j9jc/Bq+EZf3/I6+fNtpc1LO7pXNJ6TpTUovxR9C4fIRymJtr2LX62mm9Hro+1GtJ/jK8f1NABozAAAAAAAAAAAAAH
jelC7nb7Leygk1XqqEtexczjJ07peqzVPH01JqEnJuPY2cxML+W9PAACqwAAAAAAAAAAAAAAAAdm6L7udxst7KaSVCq4R07VzOMn
TuiGrN08hTcm4RcWo9iZanlW/h0oAG7AAAAAAAAAAAAAARbzG2WQ3ffLWlX3Ph3466EOps7hYwbWLtvTRtjBcy4KJnyz21mWnHHd
aIabq9h/ltt6aHV7D/Lbb00bEHm7L0shrur2H+W23podXsP8ttvTRdUzuKpVJU6mQoRnF6Si5rVMte0OHS1/SVv99E/aPydXsP8A
Lbb00Or2H+W23pohPbXBp6e8z9KX5F1PbHEVq1OjRq1KlSpJRjFU2uYyxtUvq9h/ltt6aHV7D/Lbb00bEEbKchrur2H+W23podXs
P8ttvTRdUzuKpVJU6mQoRnF6Si5rVMte0OHS1/SVv99E/aPydXsP8ttvTQ6vYf5bbemiE9tcGnp7zP0pfkXU9scRWrU6NGrUqVKk
lGMVTa5jLG1S+r2H+W23podXsP8ALbb00bEEbKchgp7O4WUE3i7b00TLPG2WP3vc7WlQ3/i3I6al9tLg4mc9LjnurEvN5I7bTAAD
RmAAAAAAAAAAAAABFrvWp5Eoh1XrUZzdTP5x09PH61YADhdzXPZ/ESlKc7CjOU5OUpSjq22VWz+HT1WNtvTRt7W2nc1N2PJc33Gh
202zstlIqysqULm/fGSnxUF4/wCf30rW0/bO1q1+mzVvQS0VGn91FVQop6qlBP8AhRrNidtbLaqLsb6jTt79cYqHBTXh+X+L0F5Z
ytZ98HyYtSYjSvJEziKADNo1z2fxEpSnOwozlOTlKUo6ttlVs/h09Vjbb00bqzs5XU+6C5s89tttpZbKpWVjSp3F+9HJT4qC8fH/
ADz0rS0xrK16xONmregloqNP7qKqhRT1VKCf8KNXsTtpZbVJ2V9Sp29+tXFQ4Ka8PH/PL0N5ZytZ98HyYtSYjU1vEziKADNoy0Hp
U8yUQ6T0qImHd00/nHD1EfoAB0uYAAAAAAAAAAAAACFP45eZNIU/jl5nL1PiHV03mVoAOJ2p2MuYUKjjPgp9vccn6VcHfW20dXKy
p71pc6btSPFJpcmdKK1d24t3b14RrUZc4VFvI1ryZGSytx7Ow5p0U4O+udo6WVjS3bW213qkuCba5I67lLmE0qMeLT1bNdQkra2V
tbwhRorlCnHdRQm3JsZCK8eTsqAsrT9nRnPnotSy03vdoOUnJta6sxbNzi7mEE6MuDb1TORdK2DvrbaOrlZUt61udN2pHik0uTOl
is1c27t7iEa1KXOFRbyNa8mRksbcezsOadFODvrnaOllY0t21ttd6pLgm2uSOu5S5hNKjHi09WzW0Wra3VvbwjRpR5QprdQFuTYy
CvHk7KgAMmy6Hxx8yaQofHHzJp29N4lxdT5gAB1OUAAAAAAAAAAAAACJW+tZLI1wtJp95z9RG0dHTzl2EAHA7wAAAABHvtfdnFPj
JpLxM8I7sFFLTREa7+nXoUuWst7XyJQAAAAAAAAGSj9aiWRrdazb7iSd/TxlHB1E7cAB0OcAAAAAAAAAAAAADFcR1hr3GUpJb0Wm
VvXurML0t22iUEFWtG0UPKeoAAAAAItejcO5jVpODSjppLsMlH3nf/Xbm7p/pMwAAAAAAABVLVpASbeOkNe8ylIrdikip6tK9tYh
5d7d1pkABZQAAAAAAAAAAAAAAABGuIaS3lyZhJs470WmQ5RcZNM4Oenbbfbv4L91c9KAA53QsVelKs6KqRdSPFx14ovNZksXUrVV
d2VT2NzHm+yS7mRIZ28s5OGRsprTgp01qmSvFNj6b4GqhtLjpQTnUlTl/wCMo8UVltJjFFuNZyfYlHiyMR2W9NoWVK9KlKMalSMZ
T4RTfM0s9oa1ytzH2VSc+1zXBGaxxdxUuffclNTqLjCmuUCcT2Z/ptwAQoGa3hrLefJGKMXKSSJkI7sUkdHBTutvpz89+2ue1wAO
9wAAAAAAAAAAAAAAAAAAAGKtT31quaMoK2rFoyVq2ms7CC1o9GUJVWlvrVcyM009GjzuTjmkvR4+SLwoHFSWjSfmAZtEedhaVZuc
7anKT5txKRx1lGSlG1pprinukkBOyooxj8MUvJFQAgKpavRBJt6JEmlS3Fq+Zpx8c3lnyckUgo09xavmzKAejWsVjIeda02nZAAW
VAAAAAAAAAAAAAAAAAAAAAAsqU4zWrXEvKPkyJiJjJWrMxOwgby1KmJ82NWeRr1WUGPefeN5940ZCjmkY9WBo2FGEVBSS4tGQspf
VR8i89akRFYx5d5mbToACygAAAAAAAAAAAAAAAAAAAAAAES9yljj4b11c06XDXRvi/5ASyj5M8Vkeki2p70LC3lVfFb8+C8GeYu9
sczkK8VK5dGDmvo0+BfsmTXSXzYLKTbowb5uKLzxJeuAAhIAANjS+qj5F5ye42py+MzFzGjdSlTVV/QnxWi7PA3mO6SYNKOQtWn2
zp/ke3Wk9sPItP6l7wECwzeOycIu1uqc21ru66P/AIJ5CAAEAAAAAAAAAAAAAAAAAYri5o2lF1rirGnTjzlJ6IgZ3PWuCs3Wrveq
P4KafGTOW5zaK9zlxKdWbhR1+jST4L+5etJlEzj02e6QXKM7fFRceOntpf8ASPEXF1Xu6rq3FWdSb5uT1MQN4rEeFdC+j9fT/iX9
Swqm4yUlzT1JHZKP1FP+Ff0LzmC2szMYpK64JafCivW7Nfa/wo8n4XJ7h6HyqOnA5j1uzX2v8KHW7Nfa/wAKHwuT3B8qjpwOY9bs
19r/AAodbs19r/Ch8Lk9wfKohZn9sXf/ALZEIvrVp3Fadao9Zzesn3ssPVrGREPPmdnV9KrUoVFUpTlCSeqcXo0ewwO39e0SoZNS
r0+yoviiv+zxgExE+R3OxyFrkaCr2taNSD7ny8yScRxWYvMPcxrWtVxSesoa8JeaOpbObUW2fotJKlcR+Kk3/wDUY2pMLRLeAAzS
AAAAAAAAAAAavPZ62wVk61ZqVR8KdNPjJkvIX1HHWVW6ryShTjrz5+BxzN5etmslUu6uqT4Rhrwii9K6iZxjyuVucvezurqblJ8l
2RXciGAdCgAAAAAAAAAAAAAAAAAABns7yvYXMLm2qOFSD1TRgAHXtmNp6GdtlGTULqC+nDv8Ub44Xj76tjr2ldUJNTpy158/A7Hh
MvRzWNp3dLRN8JQ14xZheueF4lsQAZpAAAAAAA1m0GUhiMRWupNb+mkF3yZMfY8Pt9nZXd9+jaM17Gi9Z6dsjxxfWqzr1p1ajcpz
bbb7WWHTEZGKAAJQAAAAAAAAAAAAAAAAAAAAAB6LY3OSxOVjSnLS3uGoz17O5nnQm001zQmNjEu9pppNcmVPP7G5hZbCwU5a1qH0
J977megOWYycXAAQAAAHPuknI61LfHxb0S9pNf0OgnHNrrqN3tJdzhrpGW7x8OBpxxsolpgAbqAAAAAAAAAAAAAAAAAAAAAAAAAA
A9Z0e5H3XNStZN7lxHTTxR1A4dibhWuWta8td2FWLenPmdvhJThGS5SWpjyR96vC4AGSQAAW1JOFKclzjFs4bkK8rnIXFeaSlOo2
9PM7jWTdCoktW4vh/I4TWadeo09U5Pj/ADNuL+q2WAA1VAAAAAAAAAAAAAAAAAAAAAAAAAABWEnCcZLnF6ncMVXlc4q1rzSUp0ot
6eRw47Zgf2DYvvoRa/4MuTwtVsAAYrP/2Q==
""")
