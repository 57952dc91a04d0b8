"""A typed callback context that carries the bot's services and the update's actor."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.actors import Actor
from bot.services import Services


class BotData:
    """``application.bot_data``: holds the services and nothing about members."""

    def __init__(self) -> None:
        self.services: Services | None = None


class YardemContext(CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], BotData]):
    _actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        """Who sent the update, resolved once by :func:`bot.routing.resolve_actor`."""
        if self._actor is None:
            raise RuntimeError("the actor is resolved in an early handler group")
        return self._actor

    @actor.setter
    def actor(self, actor: Actor) -> None:
        self._actor = actor

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services are opened in post_init; no update runs before that")
        return services


YardemApplication = Application[
    ExtBot[int], YardemContext, dict[Any, Any], dict[Any, Any], BotData, Any
]
