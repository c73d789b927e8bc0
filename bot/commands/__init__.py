"""The platform-neutral command layer: every chat command, written once for every backend.

``service.CommandService`` turns "/subscribe Dana new_post" into a :class:`bot.reply.Reply`;
``registry`` builds the table of commands from the family modules (``subscriptions``,
``editors``, ``reports``, ``official``, ``digest``); ``auth`` decides who may run what;
``bot.actions`` (a leaf shared with the alert renderer) maps button callback data to
commands. Adapters in ``bot.chat`` only translate.
"""
