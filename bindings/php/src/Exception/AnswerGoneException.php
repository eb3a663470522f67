<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * The answer of a request that reached the gateway could not be delivered
 * (UMS_ERR_ANSWER_GONE): the library kept it because the output buffer was
 * too small, and it expired (120 s), was evicted or was already taken. The
 * request was NOT sent again, so its outcome is unknown to you: like any
 * OutcomeUnknownException, query the bill before deciding, never resend.
 *
 * The binding fetches kept answers itself, at once, so this is rare; it is
 * also what Client::takeAnswer() throws for an unknown id.
 */
class AnswerGoneException extends OutcomeUnknownException
{
}
