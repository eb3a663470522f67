<?php

declare(strict_types=1);

namespace ChinaUms\Exception;

/**
 * The gateway accepted the request (errCode SUCCESS) but its effect is not
 * final yet (UMS_ERR_PENDING): e.g. a refund whose refundStatus is
 * PROCESSING or UNKNOWN. No money has settled for sure. Query the bill
 * (queryBill, with the refundOrderId for a refund) until the state is final;
 * never resend the request.
 *
 * getStateField() names the answer's state field ("refundStatus"),
 * getState() its value ("PROCESSING"), getResponse() the gateway's whole
 * answer; isSettled() is false.
 */
class PendingException extends UmsException
{
}
